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

from heatwatcher.estimation import fit
from heatwatcher.estimation import thermal

R, TAU, STEP = 0.08, 1200.0, 300.0


def history(rng, n=600, noise=0.05):
    square = np.sin(np.arange(n) / 20.0) > 0
    power = 150 + 100 * square + rng.normal(0, 3, n)
    inlet = 25 + rng.normal(0, 0.2, n)
    m = thermal.Thermal(R, TAU)
    outlet = np.concatenate([[inlet[0] + R * power[0]],
                             thermal.simulate(inlet[0] + R * power[0],
                                              inlet[:-1], power[:-1], m,
                                              STEP)])
    return outlet + rng.normal(0, noise, n), inlet, power


class TestThermal(unittest.TestCase):

    def test_steady_state_is_inlet_plus_power_times_resistance(self):
        m = thermal.Thermal(R, TAU)
        temps = thermal.simulate(20.0, 25.0, np.full(100, 250.0), m, STEP)
        self.assertAlmostEqual(25.0 + 250.0 * R, temps[-1], places=6)
        self.assertTrue(np.all(np.diff(temps) >= 0))

    def test_fit_recovers_r_and_tau(self):
        m = thermal.fit_rc(*history(np.random.default_rng(1)), STEP)
        self.assertAlmostEqual(R, m.r, delta=0.1 * R)
        self.assertAlmostEqual(TAU, m.tau, delta=0.15 * TAU)

    def test_fit_rejects_missing_or_flat_data(self):
        outlet, inlet, power = history(np.random.default_rng(2), n=40)
        self.assertIn('fewer than 50', thermal.fit_rc(outlet, inlet, power,
                                                      STEP).reason)
        flat = np.full(200, 30.0)
        m = thermal.fit_rc(flat, flat, np.full(200, 100.0), STEP)
        self.assertIsNone(m.r)

    def test_outlook_and_time_above(self):
        m = thermal.Thermal(R, TAU)
        kwh, frac = thermal.outlook(40.0, 25.0, np.full(12, 250.0), m, STEP,
                                    44.0)
        self.assertAlmostEqual(250.0 * 3600 / 3.6e6, kwh)
        self.assertGreater(frac, 0.5)
        curve = fit.linear_curve(100.0, 350.0)
        u = thermal.util_for_time_above(curve, 40.0, 25.0, m, 3600, STEP,
                                        44.0, 0.9)
        p = np.interp(u, fit.GRID, curve)
        self.assertGreaterEqual(
            thermal.outlook(40.0, 25.0, np.full(12, p), m, STEP, 44.0)[1],
            0.9)
        p_less = np.interp(u - 0.02, fit.GRID, curve)
        self.assertLess(
            thermal.outlook(40.0, 25.0, np.full(12, p_less), m, STEP,
                            44.0)[1], 0.9)
        self.assertEqual(np.inf, thermal.util_for_time_above(
            curve, 40.0, 25.0, m, 3600, STEP, 90.0, 0.9))
