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
"""Per-instance load forecasts by time-of-day slot and day category.

Data: ``Y`` of shape ``(N, D, K)``: N instances, D days, K slots per day
(``slot_minutes`` long), each the mean CPU use (%) in that slot, NaN where
missing; ``categories`` ``(D,)`` the day category of each day (0 = weekday,
1 = weekend by default; any calendar of integer categories works).

Forecast target at day ``d``, slot ``k``: the mean load over the next
``h`` slots (the horizon), ``mean(Y[:, d, k:k+h])``; only information from
before slot ``k`` is used. Models, vectorised over instances:

* ``last_value``: mean of the last slot, ``Y[:, d, k-1]``;
* ``seasonal_naive``: the same window on the most recent earlier day of the
  same category;
* ``seasonal_profile``: an exponentially smoothed profile per category and
  slot (updated day by day with weight ``alpha``), averaged over the window;
* ``regression``: ridge regression, pooled over instances, of the target on
  ``[1, last_value, seasonal_naive, seasonal_profile, mean of the last h
  slots]``.
"""

import dataclasses
import warnings

import numpy as np

MODELS = ('last_value', 'seasonal_naive', 'seasonal_profile', 'regression')
FEATURES = ('last_value', 'seasonal_naive', 'seasonal_profile', 'recent')


@dataclasses.dataclass
class Samples:
    """Features and targets at every (day, slot) with a full history.

    :ivar x: ``(M, 4)`` features (FEATURES order); :ivar y: ``(M,)`` target;
    :ivar day: ``(M,)`` day index; :ivar instance: ``(M,)`` instance index;
    :ivar slot: ``(M,)`` slot of day.
    """

    x: np.ndarray
    y: np.ndarray
    day: np.ndarray
    instance: np.ndarray
    slot: np.ndarray


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        return np.nanmean(a, axis=axis)


def samples(y, categories, horizon, alpha=0.3):
    """Build :class:`Samples` from ``Y`` ``(N, D, K)``.

    :param horizon: slots averaged in the target (e.g. 3 x 20 min = 1 h).
    :param alpha: smoothing weight of the seasonal profile.
    """
    n, days, k_max = y.shape
    cats = np.asarray(categories)
    profile = np.full((n, int(cats.max()) + 1 if days else 1, k_max),
                      np.nan)
    xs, ys, ds, ins, ks = [], [], [], [], []
    for d in range(days):
        c = cats[d]
        earlier = [e for e in range(d) if cats[e] == c]
        for k in range(1, k_max - horizon + 1):
            target = _nanmean(y[:, d, k:k + horizon], 1)
            snaive = np.full(n, np.nan)
            for e in reversed(earlier):
                window = _nanmean(y[:, e, k:k + horizon], 1)
                snaive = np.where(np.isnan(snaive), window, snaive)
            xs.append(np.column_stack([
                y[:, d, k - 1], snaive,
                _nanmean(profile[:, c, k:k + horizon], 1),
                _nanmean(y[:, d, max(0, k - horizon):k], 1)]))
            ys.append(target)
            ds.append(np.full(n, d))
            ins.append(np.arange(n))
            ks.append(np.full(n, k))
        day = y[:, d]
        old = profile[:, c]
        profile[:, c] = np.where(np.isnan(old), day, np.where(
            np.isnan(day), old, alpha * day + (1 - alpha) * old))
    if not xs:
        empty = np.zeros(0)
        return Samples(np.zeros((0, 4)), empty, empty, empty, empty)
    return Samples(np.concatenate(xs), np.concatenate(ys),
                   np.concatenate(ds), np.concatenate(ins),
                   np.concatenate(ks))


def fit_regression(x, y, ridge=1e-3):
    """Ridge coefficients ``(5,)`` on complete rows of ``x`` ``(M, 4)``."""
    ok = np.all(np.isfinite(x), axis=1) & np.isfinite(y)
    if ok.sum() < 10:
        return None
    a = np.column_stack([np.ones(ok.sum()), x[ok]])
    reg = ridge * len(a) * np.eye(a.shape[1])
    reg[0, 0] = 0.0
    return np.linalg.solve(a.T @ a + reg, a.T @ y[ok])


def predict(name, x, coef=None):
    """``(M,)`` forecasts of model ``name`` from features ``x``."""
    if name == 'regression':
        if coef is None:
            return np.full(len(x), np.nan)
        pred = np.column_stack([np.ones(len(x)), x]) @ coef
        return np.clip(pred, 0.0, 100.0)
    return x[:, FEATURES.index(name)]
