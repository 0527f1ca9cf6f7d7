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

from heatwatcher.forecast import history
from heatwatcher.forecast import models
from heatwatcher.forecast import modes
from heatwatcher.forecast import predictor
from tests import synthetic

UTC = datetime.timezone.utc


def cycle(n, days, k=72, busy=(36, 42), low=10.0, high=80.0, noise=0.0,
          seed=0):
    """``(n, days, k)`` loads busy in slots ``busy`` every day."""
    rng = np.random.default_rng(seed)
    day = np.full(k, low)
    day[busy[0]:busy[1]] = high
    y = np.tile(day, (n, days, 1)) + rng.normal(0, noise, (n, days, k))
    return np.clip(y, 0, 100)


class TestFeatures(unittest.TestCase):

    def test_window_across_midnight_uses_each_days_category(self):
        # 1 instance, 3 days of 4 slots; day 2 is a weekend day.
        y = np.array([[[1, 2, 3, 4], [5, 6, 7, 8], [50, 60, 70, 80]]],
                     float)
        cats = np.array([0, 0, 1])
        x, target = models.features(y, cats, np.array([7]), 0, 2, alpha=1)
        # window = slot 3 of day 1 and slot 0 of day 2
        self.assertEqual(29.0, target[0, 0])            # mean(8, 50)
        self.assertEqual(7.0, x[0, 0, 0])               # last value
        # seasonal naive: day 0 slot 3 (weekday) only; no earlier weekend
        self.assertEqual(4.0, x[0, 0, 1])

    def test_no_information_from_the_future(self):
        y = cycle(2, 4, k=12, busy=(4, 6), noise=5.0)
        t = np.arange(1, 4 * 12 - 3)
        x1, _ = models.features(y, np.zeros(4, int), t, 0, 3)
        later = y.copy().reshape(2, -1)
        for i, ti in enumerate(t):
            mod = later.copy()
            mod[:, ti:] = 999.0
            x2, _ = models.features(mod.reshape(y.shape), np.zeros(4, int),
                                    np.array([ti]), 0, 3)
            np.testing.assert_array_equal(x1[:, i], x2[:, 0])

    def test_leads_shift_the_target(self):
        y = cycle(1, 3, k=12, busy=(4, 6))
        _, t0 = models.features(y, np.zeros(3, int), np.array([15]), 0, 1)
        _, t1 = models.features(y, np.zeros(3, int), np.array([15]), 1, 1)
        self.assertEqual(y[0, 1, 3], t0[0, 0])
        self.assertEqual(y[0, 1, 4], t1[0, 0])


class TestHistory(unittest.TestCase):

    def test_matrix_aligns_now_and_pads_the_horizon(self):
        end = datetime.datetime(2026, 11, 2, 23, 40, tzinfo=UTC)
        series = synthetic.daily_cycle(['a'], end, days=2, busy=(23, 24))
        series = {u: {s.start + datetime.timedelta(seconds=300 * k):
                      float(v) for k, v in enumerate(s.values)}
                  for u, s in series.items()}
        h = history.matrix(series, ['a', 'b'], end, window=2 * 86400,
                           step=300, slot_minutes=20, horizon=3,
                           holidays=['2026-11-03'])
        self.assertEqual(2 * 72 + 71, h.now)            # 23:40 on day 2
        self.assertEqual((2, 4, 72), h.y.shape)         # padded to day 3
        self.assertEqual([1, 1, 0, 1], list(h.cats))    # Sat, Sun, holiday
        self.assertEqual(80.0, h.y[0, 2, 70])
        self.assertTrue(np.isnan(h.y[0, 2, 71]))        # in progress
        self.assertTrue(np.isnan(h.y[1]).all())
        self.assertAlmostEqual(2.0, predictor.history_days(h.y, h.now))


class TestPredictor(unittest.TestCase):

    def fit(self, y, test_days=2, horizon=3):
        n, days, k = y.shape
        now = (days - 1) * k + 36
        y = y.copy()
        y.reshape(n, -1)[:, now:] = np.nan
        return predictor.fit(y, np.zeros(days, int), now, horizon,
                             test_days=test_days, hosts=np.zeros(n, int),
                             vcpus=np.full(n, 4.0), cores=np.array([16.0]),
                             names=['h0']), y, now

    def test_daily_cycle_is_learnt_and_forecast(self):
        f, y, now = self.fit(cycle(3, 8, noise=1.0))
        self.assertIn(f.chosen, ('seasonal_naive', 'seasonal_profile',
                                 'regression'))
        self.assertLess(f.errors[f.chosen], f.errors['last_value'])
        self.assertLess(f.error, 2.0)
        self.assertEqual(['h0'], list(f.host_errors))
        path, mean = predictor.forecast(y, np.zeros(8, int), now, 3, f)
        # 12:00 -> 13:00 is busy every day
        np.testing.assert_allclose(path, 80.0, atol=5.0)
        np.testing.assert_allclose(mean, 80.0, atol=5.0)

    def test_fit_instances_evenly_spaced_under_the_row_cap(self):
        np.testing.assert_array_equal(np.arange(5),
                                      predictor.fit_instances(5, 100, 500))
        np.testing.assert_array_equal([0, 3, 6, 9],
                                      predictor.fit_instances(10, 100, 400))
        np.testing.assert_array_equal([0], predictor.fit_instances(10, 100,
                                                                   50))

    def test_regression_fitted_on_the_capped_rows_scores_everyone(self):
        # Instances 0-5 follow the cycle, 6-11 a shifted one: capped at 4
        # instances (0, 4, 7, 11), the coefficients are those of a fit on
        # those four alone, and every instance is still scored.
        y = np.concatenate([cycle(6, 8, noise=2.0, seed=1),
                            cycle(6, 8, busy=(30, 50), noise=2.0, seed=2)])
        n, days, k = y.shape
        now = (days - 1) * k + 36
        y.reshape(n, -1)[:, now:] = np.nan
        slots = now - 3
        place = dict(test_days=2, hosts=np.arange(n) % 2,
                     vcpus=np.full(n, 4.0), cores=np.array([16.0, 16.0]),
                     names=['h0', 'h1'])
        capped = predictor.fit(y, np.zeros(days, int), now, 3,
                               max_fit_rows=4 * slots, **place)
        subset = [0, 4, 7, 11]
        alone = predictor.fit(y[subset], np.zeros(days, int), now, 3,
                              **dict(place, hosts=place['hosts'][subset],
                                     vcpus=place['vcpus'][subset]))
        whole = predictor.fit(y, np.zeros(days, int), now, 3, **place)
        self.assertEqual(alone.coef_mean, capped.coef_mean)
        self.assertEqual(alone.coef_leads, capped.coef_leads)
        self.assertNotEqual(whole.coef_mean, capped.coef_mean)
        self.assertEqual(whole.points, capped.points)
        self.assertEqual(3 * alone.points, capped.points)

    def test_short_history_gives_a_reason(self):
        f, _, _ = self.fit(cycle(2, 2))
        self.assertIsNone(f.chosen)
        self.assertIn('needs at least 3', f.reason)

    def test_host_errors_sum_instances_in_host_capacity(self):
        pred = np.array([[50.0, 50.0], [50.0, np.nan]])
        target = np.array([[40.0, 60.0], [70.0, 10.0]])
        err = predictor.host_errors(pred, target, np.array([0, 0]),
                                    np.array([4.0, 2.0]),
                                    np.array([8.0, 4.0]))
        # t0: (+10*4 - 20*2)/100 = 0; t1: (-10*4)/100 = 0.4 core of 8
        self.assertAlmostEqual(2.5, err[0])
        self.assertTrue(np.isnan(err[1]))

    def test_reuse_policy(self):
        f = predictor.Fitted(chosen='regression', error=1.0)
        rec = {'key': {'a': 1}, 'fitted_at': 1000.0, 'fitted': f.to_dict()}
        self.assertIsNone(predictor.reuse(None, {'a': 1}, 0, 10, False)[0])
        got, why = predictor.reuse(rec, {'a': 1}, 1005.0, 10, False)
        self.assertEqual(f, got)
        got, why = predictor.reuse(rec, {'a': 1}, 2000.0, 10, False)
        self.assertIsNone(got)
        self.assertIn('retrain_interval 10', why)
        got, why = predictor.reuse(rec, {'a': 1}, 9e9, 10, True)
        self.assertEqual(f, got)
        self.assertIn('predict_only', why)
        got, why = predictor.reuse(rec, {'a': 2}, 1001.0, 10, True)
        self.assertIsNone(got)
        self.assertIn('other settings', why)


class TestModes(unittest.TestCase):

    fitted = predictor.Fitted(chosen='regression', error=3.0)

    def test_auto_switches_on_the_threshold(self):
        self.assertEqual('proactive',
                         modes.decide('auto', self.fitted, 3.5).mode)
        d = modes.decide('auto', self.fitted, 3.0)
        self.assertEqual('reactive', d.mode)
        self.assertIn('not below autostart_accuracy 3.00', d.reason)
        self.assertEqual(3.0, d.error)

    def test_without_a_model_every_mode_is_reactive(self):
        none = predictor.Fitted(reason='too short')
        for mode in modes.MODES:
            d = modes.decide(mode, none, 50.0)
            self.assertEqual('reactive', d.mode)
        self.assertIn('too short', modes.decide('proactive', none, 5).reason)
        self.assertEqual('proactive',
                         modes.decide('proactive', self.fitted, 0.0).mode)

    def test_failsafe_hosts(self):
        d = modes.decide('auto', self.fitted, 5.0)
        out = modes.failsafe(d, ['a', 'b', 'c'],
                             np.array([5.0, 50.0, 95.0]), 10.0, 90.0)
        self.assertEqual([True, False, True], list(out))
        self.assertEqual({'a': 5.0, 'c': 95.0}, d.failsafe)

    def test_damping_takes_the_load_held_long_enough(self):
        path = np.array([[90.0, 10.0, 10.0], [10.0, 60.0, 70.0],
                         [np.nan, 30.0, np.nan], [np.nan] * 3])
        np.testing.assert_array_equal(
            [10.0, 60.0, 30.0, np.nan], modes.damped(path, 0.5))
        np.testing.assert_array_equal(
            [90.0, 70.0, 30.0, np.nan], modes.damped(path, 0.0))
        np.testing.assert_array_equal(
            [10.0, 10.0, 30.0, np.nan], modes.damped(path, 1.0))

    def test_planning_percent(self):
        d = modes.decide('proactive', self.fitted, 5.0)
        measured = np.array([10.0, 10.0, np.nan])
        path = np.array([[80.0] * 3, [80.0] * 3, [np.nan] * 3])
        pct, used = modes.planning_percent(
            d, measured, path, np.array([0, 1, 0]), np.array([False, True]),
            0.5)
        np.testing.assert_array_equal([80.0, 10.0, np.nan], pct)
        self.assertEqual([True, False, False], list(used))
        d.mode = 'reactive'
        pct, used = modes.planning_percent(
            d, measured, path, np.array([0, 1, 0]), np.array([False, False]),
            0.5)
        np.testing.assert_array_equal(measured, pct)
        self.assertFalse(used.any())
