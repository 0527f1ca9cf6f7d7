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

from heatwatcher.estimation import power
from heatwatcher.strategies import heat_consolidation_settings as hs


class TestConfiguredModels(unittest.TestCase):

    def setUp(self):
        self.models = power.configured_models(
            ['r640-1', 'r740-1', 'odd'], [32, 64, 16],
            {'r640-*': (95.0, 310.0), 'r740-1': (120.0, 480.0)}, 100.0,
            350.0, hs.match)

    def test_profiles_then_defaults(self):
        np.testing.assert_array_equal([95, 120, 100], self.models.idle)
        np.testing.assert_array_equal([310, 480, 350], self.models.peak)
        self.assertEqual(['profile', 'profile', 'default'],
                         self.models.source)

    def test_heat_rate_is_linear_and_capped(self):
        np.testing.assert_allclose(
            [95 + 215 * 0.5, 480.0, 100.0],
            self.models.heat_rate(np.array([16.0, 80.0, 0.0])))

    def test_instance_heats_sum_to_dynamic_power(self):
        loads = np.array([1.5, 4.0, 2.5, 8.0])
        host = np.zeros(4, dtype=int)
        heats = self.models.instance_heat(loads, host)
        self.assertAlmostEqual(
            self.models.heat_rate(np.array([16.0, 0, 0]))[0] - 95.0,
            heats.sum())

    def test_watts_at_load(self):
        w = self.models.watts_at_load(1)
        self.assertEqual(11, len(w))
        self.assertEqual((120.0, 480.0), (w[0], w[-1]))
        self.assertAlmostEqual(120 + 36 * 5, w[5])
