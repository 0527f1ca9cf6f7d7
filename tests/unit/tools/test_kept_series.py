# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

import unittest

import numpy as np

from heatwatcher import timestamps
from tests.unit.tools import bench_module

kept_series = bench_module('kept_series')


def samples(times, values):
    return timestamps.Samples(np.array(times, dtype=np.int64),
                              np.array(values, dtype=float))


class TestDiffering(unittest.TestCase):

    def test_equal_series_with_nan_do_not_differ(self):
        whole = {'a': samples([0, 300], [1.0, np.nan])}
        kept = {'a': samples([0, 300], [1.0, np.nan])}
        self.assertEqual([], kept_series.differing(whole, kept))

    def test_a_value_a_time_or_a_resource_of_one_read_differs(self):
        whole = {'a': samples([0, 300], [1.0, 2.0]),
                 'b': samples([0, 300], [1.0, 2.0]),
                 'c': samples([0], [1.0])}
        kept = {'a': samples([0, 300], [1.0, 2.0000001]),
                'b': samples([0, 600], [1.0, 2.0]),
                'd': samples([0], [1.0])}
        self.assertEqual(['a', 'b', 'c', 'd'],
                         kept_series.differing(whole, kept))
