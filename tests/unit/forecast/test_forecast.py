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

import numpy as np

from heatwatcher.forecast import backtest
from heatwatcher.forecast import models


class TestSamples(unittest.TestCase):

    def setUp(self):
        # 1 instance, 4 days (weekday, weekend, weekday, weekday), 6 slots
        self.y = np.array([[[10, 20, 30, 40, 50, 60],
                            [90, 90, 90, 90, 90, 90],
                            [11, 21, 31, 41, 51, 61],
                            [12, 22, 32, 42, 52, 62]]], float)
        self.cats = np.array([0, 1, 0, 0])

    def at(self, s, day, slot):
        m = (s.day == day) & (s.slot == slot)
        return s.x[m][0], s.y[m][0]

    def test_features_and_target(self):
        s = models.samples(self.y, self.cats, horizon=2, alpha=0.5)
        x, y = self.at(s, 3, 2)
        self.assertEqual(37.0, y)                  # mean(32, 42)
        self.assertEqual(22.0, x[0])               # last slot
        self.assertEqual(36.0, x[1])               # day 2 (day 1: weekend)
        # profile: day 0 then 0.5 * day 2 + 0.5 * day 0 -> slots 2,3
        self.assertAlmostEqual(35.5, x[2])
        self.assertEqual(17.0, x[3])               # mean of slots 0, 1
        x, _ = self.at(s, 0, 1)
        self.assertTrue(np.isnan(x[1]))            # no earlier day

    def test_regression_recovers_a_linear_relation(self):
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 100, (500, 4))
        y = 2.0 + 0.5 * x[:, 0] + 0.3 * x[:, 3]
        coef = models.fit_regression(x, y, ridge=0.0)
        np.testing.assert_allclose([2.0, 0.5, 0, 0, 0.3], coef, atol=1e-6)
        self.assertIsNone(models.fit_regression(x[:5], y[:5]))
        p = models.predict('regression', np.array([[300, 0, 0, 0.0]]), coef)
        self.assertEqual([100.0], list(p))         # clipped to [0, 100]

    def test_ridge_skips_incomplete_rows_and_spares_the_intercept(self):
        rng = np.random.default_rng(1)
        x = rng.uniform(0, 100, (300, 4))
        y = 5.0 + x @ [0.2, 0.1, 0.4, 0.3] + rng.normal(0, 1, 300)
        x[3, 2] = np.nan
        y[7] = np.inf
        complete = np.ones(300, bool)
        complete[[3, 7]] = False
        design = np.column_stack([np.ones(298), x[complete]])
        penalty = 0.1 * 298 * np.diag([0.0, 1, 1, 1, 1])
        expected = np.linalg.solve(design.T @ design + penalty,
                                   design.T @ y[complete])
        np.testing.assert_allclose(
            expected, models.fit_regression(x, y, ridge=0.1), rtol=1e-9)


class TestBacktest(unittest.TestCase):

    def test_day_matrix_aligns_slots_on_midnight(self):
        start = datetime.datetime(2026, 1, 5, 23, 0,
                                  tzinfo=datetime.timezone.utc)
        series = np.arange(24, dtype=float)[None, :]  # 2 h of 5 min
        y, dates = backtest.day_matrix(series, start, 300, 20)
        self.assertEqual((1, 2, 72), y.shape)
        self.assertEqual(1.5, y[0, 0, 69])           # 23:00-23:20
        self.assertEqual(13.5, y[0, 1, 0])           # 00:00-00:20
        self.assertEqual([0, 0], list(backtest.categories(dates)))

    def test_result_form_and_choice(self):
        rng = np.random.default_rng(1)
        days, k = 8, 72
        shape = 50 + 30 * np.sin(np.linspace(0, 2 * np.pi, k))
        y = shape[None, None, :] + rng.normal(0, 3, (4, days, k))
        cats = np.array([0, 0, 0, 0, 0, 1, 1, 0])
        res = backtest.backtest(y, cats, 3, 2, ['a', 'b', 'c', 'd'])
        self.assertEqual(set(models.MODELS), set(res['models']))
        for m in res['models'].values():
            self.assertEqual({'mae', 'mape', 'by_category'}, set(m))
        self.assertEqual(res['chosen'], min(
            res['models'], key=lambda n: res['models'][n]['mae']))
        self.assertEqual(['a', 'b', 'c', 'd'], sorted(res['instances']))
        self.assertLess(res['models']['regression']['mae'],
                        res['models']['last_value']['mae'])
