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

import numpy as np


class SameSeriesMixin:
    """``assertSameSeries`` for ``{key: Samples}`` answers of the reads."""

    def assertSameSeries(self, expected, actual):
        """The same keys, and for each the same times and values, exactly."""
        self.assertEqual(sorted(expected), sorted(actual))
        for key in expected:
            np.testing.assert_array_equal(expected[key].times,
                                          actual[key].times)
            np.testing.assert_array_equal(expected[key].values,
                                          actual[key].values)
