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
"""Backtest the forecasting models: fit on early days, score on the last.

Every model is scored on the same (instance, day, slot) points of the test
days where every model has a forecast, so their errors are comparable. MAE
is in CPU percentage points; MAPE (%) is over targets of at least 1 %.
"""

import datetime

import numpy as np

from heatwatcher.forecast import models

WEEKEND = {5, 6}


def day_matrix(series, start, step, slot_minutes):
    """Slot means ``(N, D, K)`` of regular series sampled every ``step`` s.

    :param series: ``(N, T)`` values, NaN where missing, from ``start``
        (aware datetime, aligned on midnight UTC or not).
    :returns: ``(Y, day dates (D,))``
    """
    per_slot = int(round(slot_minutes * 60 / step))
    k = int(round(86400 / (slot_minutes * 60)))
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = int(round((start - first).total_seconds() / step))
    n, t = series.shape
    total = offset + t
    days = -(-total // (per_slot * k))
    grid = np.full((n, days * k * per_slot), np.nan)
    grid[:, offset:offset + t] = series
    y = models._nanmean(grid.reshape(n, days, k, per_slot), 3)
    dates = [first + datetime.timedelta(days=d) for d in range(days)]
    return y, dates


def categories(dates, weekend=WEEKEND, holidays=()):
    """0 for weekdays, 1 for weekend days and holidays.

    :param weekend: weekday numbers (Monday = 0) of the weekend.
    :param holidays: ISO dates (``YYYY-MM-DD``) counted as weekend days.
    """
    off = {str(h) for h in holidays}
    return np.array([1 if d.weekday() in weekend
                     or d.date().isoformat() in off else 0 for d in dates],
                    dtype=int)


def _scores(pred, target, cats):
    err = np.abs(pred - target)
    big = target >= 1.0
    out = {'mae': float(np.mean(err)),
           'mape': float(100 * np.mean(err[big] / target[big]))
           if big.any() else None, 'by_category': {}}
    for c in np.unique(cats):
        m = cats == c
        out['by_category']['weekend' if c else 'weekday'] = {
            'mae': float(np.mean(err[m])),
            'mape': float(100 * np.mean(err[m & big] / target[m & big]))
            if (m & big).any() else None}
    return out


def backtest(y, cats, horizon, test_days, ids=None, alpha=0.3,
             contiguous=True):
    """Fit on all but the last ``test_days`` days, score on them.

    :param contiguous: False when the days of ``y`` are not consecutive.

    :returns: ``{"models": {name: {"mae", "mape", "by_category"}},
        "chosen": name, "instances": {id: name}, "instance_mae": {id: MAE
        of the chosen model}, "points": M}``
    """
    s = models.samples(y, cats, horizon, alpha, contiguous=contiguous)
    days = y.shape[1]
    train = s.day < days - test_days
    coef = models.fit_regression(s.x[train], s.y[train])
    preds, test = models.predict_all(s.x, s.y, coef)
    test &= ~train
    result = {'models': {}, 'points': int(test.sum()),
              'coefficients': None if coef is None else
              [round(float(c), 5) for c in coef]}
    if not test.any():
        result.update(chosen=None, instances={}, instance_mae={})
        return result
    tc = cats[s.day[test]]
    for name, p in preds.items():
        result['models'][name] = _scores(p[test], s.y[test], tc)
    result['chosen'] = min(result['models'],
                           key=lambda n: result['models'][n]['mae'])
    ids = ids if ids is not None else [str(i) for i in range(y.shape[0])]
    inst = s.instance[test]
    per, mae = {}, {}
    for i in np.unique(inst):
        m = inst == i
        errs = {n: float(np.mean(np.abs(preds[n][test][m] - s.y[test][m])))
                for n in models.MODELS}
        per[ids[i]] = min(models.MODELS, key=errs.get)
        mae[ids[i]] = errs[result['chosen']]
    result['instances'] = per
    result['instance_mae'] = mae
    return result
