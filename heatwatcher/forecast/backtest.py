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
    slots_per_day = int(round(86400 / (slot_minutes * 60)))
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = int(round((start - first).total_seconds() / step))
    n, t = series.shape
    total = offset + t
    days = -(-total // (per_slot * slots_per_day))
    grid = np.full((n, days * slots_per_day * per_slot), np.nan)
    grid[:, offset:offset + t] = series
    y = models._nanmean(grid.reshape(n, days, slots_per_day, per_slot), 3)
    dates = [first + datetime.timedelta(days=d) for d in range(days)]
    return y, dates


def categories(dates, weekend=WEEKEND, holidays=()):
    """0 for weekdays, 1 for weekend days and holidays.

    :param weekend: weekday numbers (Monday = 0) of the weekend.
    :param holidays: ISO dates (``YYYY-MM-DD``) counted as weekend days.
    """
    holiday_dates = {str(holiday) for holiday in holidays}
    return np.array([1 if day.weekday() in weekend
                     or day.date().isoformat() in holiday_dates else 0
                     for day in dates],
                    dtype=int)


def _scores(forecast, target, day_category):
    error = np.abs(forecast - target)
    big_target = target >= 1.0
    scores = {'mae': float(np.mean(error)),
              'mape': float(100 * np.mean(error[big_target]
                                          / target[big_target]))
              if big_target.any() else None, 'by_category': {}}
    for category in np.unique(day_category):
        in_category = day_category == category
        scores['by_category']['weekend' if category else 'weekday'] = {
            'mae': float(np.mean(error[in_category])),
            'mape': float(100 * np.mean(error[in_category & big_target]
                                        / target[in_category & big_target]))
            if (in_category & big_target).any() else None}
    return scores


def backtest(y, cats, horizon, test_days, ids=None, alpha=0.3,
             contiguous=True):
    """Fit on all but the last ``test_days`` days, score on them.

    :param contiguous: False when the days of ``y`` are not consecutive.

    :returns: ``{"models": {name: {"mae", "mape", "by_category"}},
        "chosen": name, "instances": {id: name}, "instance_mae": {id: MAE
        of the chosen model}, "points": M}``
    """
    samples = models.samples(y, cats, horizon, alpha, contiguous=contiguous)
    days = y.shape[1]
    train = samples.day < days - test_days
    coef = models.fit_regression(samples.x[train], samples.y[train])
    forecasts, test = models.predict_all(samples.x, samples.y, coef)
    test &= ~train
    result = {'models': {}, 'points': int(test.sum()),
              'coefficients': None if coef is None else
              [round(float(value), 5) for value in coef]}
    if not test.any():
        result.update(chosen=None, instances={}, instance_mae={})
        return result
    test_categories = cats[samples.day[test]]
    for name, forecast in forecasts.items():
        result['models'][name] = _scores(forecast[test], samples.y[test],
                                         test_categories)
    result['chosen'] = min(result['models'],
                           key=lambda name: result['models'][name]['mae'])
    ids = ids if ids is not None else [str(i) for i in range(y.shape[0])]
    test_instance = samples.instance[test]
    model_of_instance, instance_mae = {}, {}
    for i in np.unique(test_instance):
        rows = test_instance == i
        model_mae = {
            name: float(np.mean(np.abs(forecasts[name][test][rows]
                                       - samples.y[test][rows])))
            for name in models.MODELS}
        model_of_instance[ids[i]] = min(models.MODELS, key=model_mae.get)
        instance_mae[ids[i]] = model_mae[result['chosen']]
    result['instances'] = model_of_instance
    result['instance_mae'] = instance_mae
    return result
