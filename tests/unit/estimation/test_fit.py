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

import datetime
import unittest
from unittest import mock

import numpy as np
from scipy import optimize

from heatwatcher.estimation import fit
from tests.unit.estimation import test_power

CURVE = test_power.X5670


def samples(rng, n=2000, noise=0.02, lo=0.0, hi=1.0):
    u = rng.uniform(lo, hi, n)
    return u, np.interp(u, fit.GRID, CURVE) * (1 + rng.normal(0, noise, n))


def mape(curve):
    grid = np.linspace(0, 1, 101)
    t = np.interp(grid, fit.GRID, CURVE)
    return 100 * np.mean(np.abs(np.interp(grid, fit.GRID, curve) - t) / t)


class TestHuberNnls(unittest.TestCase):

    def test_same_minimum_as_scipy_least_squares(self):
        # random problems with outliers and coefficients held at 0 by the
        # bounds: the loss scipy's trust-region solver minimises, the same
        # coefficients
        rng = np.random.default_rng(7)
        for trial in range(20):
            matrix = rng.normal(size=(300, 6))
            truth = np.maximum(rng.normal(size=6), 0.0)
            target = matrix @ truth + rng.normal(0, 0.05, 300)
            target[rng.integers(0, 300, 15)] += rng.normal(0, 3, 15)
            reference = optimize.least_squares(
                lambda theta: matrix @ theta - target, np.ones(6),
                jac=lambda theta: matrix, bounds=(0, np.inf),
                loss='huber', f_scale=0.1, method='trf', xtol=1e-14,
                ftol=1e-14, gtol=1e-14).x
            got = fit.huber_nnls(matrix, target, 0.1)
            np.testing.assert_allclose(got, reference, atol=1e-6,
                                       err_msg='problem %d' % trial)

    def test_normal_equations_that_cannot_be_factorised(self):
        # the rows themselves are solved then, to the same minimum
        rng = np.random.default_rng(5)
        matrix = np.abs(rng.normal(size=(200, 4)))
        target = matrix @ np.array([1.0, 0.0, 2.0, 0.5])
        target[:8] += 10.0
        expected = fit.huber_nnls(matrix, target, 0.1)
        with mock.patch.object(np.linalg, 'cholesky',
                               side_effect=np.linalg.LinAlgError):
            got = fit.huber_nnls(matrix, target, 0.1)
        np.testing.assert_allclose(got, expected, atol=1e-6)
        np.testing.assert_allclose(got, [1.0, 0.0, 2.0, 0.5], atol=0.01)

    def test_outliers_weigh_linearly(self):
        # a constant with 10 % of the samples 100 times too high: least
        # squares follows them (about 10), the Huber loss stays near 1
        target = np.ones(100)
        target[:10] = 100.0
        got = fit.huber_nnls(np.ones((100, 1)), target, 0.1)
        self.assertLess(abs(got[0] - 1.0), 0.05)


class TestFit(unittest.TestCase):

    def test_captures_a_non_linear_curve(self):
        u, p = samples(np.random.default_rng(1))
        f = fit.fit_curve(u, p)
        self.assertLess(mape(f.curve), 1.0)
        self.assertGreater(mape(fit.linear_curve(CURVE[0], CURVE[-1])),
                           3 * mape(f.curve))
        self.assertGreater(f.r2, 0.95)
        self.assertLess(f.mape, 3.0)
        self.assertEqual(2000, f.samples)

    def test_monotone_even_on_decreasing_noise(self):
        rng = np.random.default_rng(2)
        u = rng.uniform(0, 1, 500)
        p = 200 - 20 * u + rng.normal(0, 5, 500)  # measured going down
        f = fit.fit_curve(u, p)
        self.assertTrue(np.all(np.diff(f.curve) >= 0))

    def test_robust_to_outliers(self):
        rng = np.random.default_rng(3)
        u, p = samples(rng)
        spikes = rng.random(len(p)) < 0.03
        p[spikes] *= rng.uniform(2, 4, spikes.sum())
        self.assertLess(mape(fit.fit_curve(u, p).curve), 1.5)

    def test_rejects_few_samples_and_narrow_range(self):
        rng = np.random.default_rng(4)
        f = fit.fit_curve(*samples(rng, n=50))
        self.assertIsNone(f.curve)
        self.assertIn('fewer than min_fit_samples 100', f.reason)
        f = fit.fit_curve(*samples(rng, lo=0.30, hi=0.35))
        self.assertIsNone(f.curve)
        self.assertIn('narrower than 15 points', f.reason)

    def test_join_pairs_only_common_buckets(self):
        t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

        def ts(minutes):
            return (t0 + datetime.timedelta(minutes=minutes)).isoformat()
        power = {ts(0): 100, ts(1): 110, ts(5): 120, ts(10): None,
                 ts(15): 130, ts(20): float('nan')}
        util = {ts(2): 10, ts(6): 20, ts(10): 30, ts(20): 40,
                ts(25): 50, ts(15): 150}
        u, p = fit.join_series(power, util, 300)
        # bucket 0: power mean 105 with util 10; bucket 5: 120 with 20;
        # 10: no power; 15: util out of range; 20: power NaN; 25: no power
        np.testing.assert_allclose([0.1, 0.2], u)
        np.testing.assert_allclose([105, 120], p)
