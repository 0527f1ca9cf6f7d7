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

import types
import unittest

import numpy as np

from heatwatcher.estimation import fit
from heatwatcher.estimation import power
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.strategies import heat_consolidation_settings as hs

X5670 = np.array([66.0, 107, 120, 131, 143, 156, 173, 191, 211, 229, 247])


def host(name, vcpus=32, memory_mb=262144):
    return types.SimpleNamespace(name=name, vcpus=vcpus, memory_mb=memory_mb)


class TestFallbackChain(unittest.TestCase):

    def setUp(self):
        good = fit.Fit(X5670, 500, 0.98, 1.1)
        bad = fit.Fit(None, 12, reason='12 samples, fewer than '
                                       'min_fit_samples 100')
        self.models = power.estimate(
            [host('a-1'), host('a-2'), host('r640-1'), host('odd', 8, 1024),
             host('c-1', 64)],
            {'r640-*': (95.0, 310.0), 'c-1': list(X5670 + 10)}, 100.0,
            350.0, hs.match, fits={'a-1': good, 'a-2': bad,
                                   'r640-1': bad})

    def test_sources_in_order(self):
        self.assertEqual(['fitted', 'hardware', 'profile', 'default',
                          'profile'], self.models.source)
        np.testing.assert_array_equal(X5670, self.models.curves[0])
        np.testing.assert_array_equal(X5670, self.models.curves[1])
        np.testing.assert_allclose(fit.linear_curve(95, 310),
                                   self.models.curves[2])
        np.testing.assert_allclose(fit.linear_curve(100, 350),
                                   self.models.curves[3])
        np.testing.assert_allclose(X5670 + 10, self.models.curves[4])

    def test_stats_and_reasons(self):
        self.assertEqual({'samples': 500, 'r2': 0.98, 'mape': 1.1,
                          'reason': None}, self.models.fit_stats(0))
        self.assertIn('fewer than min_fit_samples',
                      self.models.fit_stats(1)['reason'])
        self.assertEqual('no host_power history',
                         self.models.fit_stats(3)['reason'])

    def test_instance_heats_share_dynamic_power_by_cpu_time(self):
        loads = np.array([1.5, 4.0, 2.5, 8.0])
        heats = self.models.instance_heat(loads, loads.sum(), 0)
        util = loads.sum() / 32
        dynamic = np.interp(util, fit.GRID, X5670) - X5670[0]
        self.assertAlmostEqual(dynamic, heats.sum())
        np.testing.assert_allclose(heats / heats.sum(), loads / loads.sum())

    def test_need_is_exact_on_a_non_linear_curve(self):
        # 120 W is reached at exactly 20 % CPU on the X5670 curve
        u = placement_problem.inverse_utilisation(
            np.array([X5670, X5670, X5670]), [120.0, 60.0, 300.0])
        np.testing.assert_allclose([0.2, 0.0, np.inf], u)
        u = placement_problem.inverse_utilisation(X5670[None, :], [125.5])
        self.assertAlmostEqual(0.25, u[0])
