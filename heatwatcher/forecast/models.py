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
1 = weekend or holiday by default; any calendar of integer categories
works). Time is also indexed flat: slot ``t = d * K + k``.

A forecast issued at slot ``t`` (using only slots before ``t``) for the
window ``[t + lead, t + lead + width)`` targets the mean load over that
window; windows may cross midnight. Models, vectorised over instances:

* ``last_value``: the last slot, ``Y[t - 1]``;
* ``seasonal_naive``: the same window on the most recent earlier day of the
  same category (per slot, the latest such day that has data);
* ``seasonal_profile``: an exponentially smoothed profile per category and
  slot (updated day by day with weight ``alpha``), as known at the start of
  the day the forecast is issued, averaged over the window;
* ``regression``: ridge regression, pooled over instances, of the target on
  ``[1, last_value, seasonal_naive, seasonal_profile, mean of the last
  recent slots]``.
"""

import dataclasses
import warnings

import numpy as np

MODELS = ('last_value', 'seasonal_naive', 'seasonal_profile', 'regression')
FEATURES = ('last_value', 'seasonal_naive', 'seasonal_profile', 'recent')


@dataclasses.dataclass
class Samples:
    """Features and targets at every issue slot with a target window.

    :ivar x: ``(M, 4)`` features (FEATURES order); :ivar y: ``(M,)`` target;
    :ivar day: ``(M,)`` day index; :ivar instance: ``(M,)`` instance index;
    :ivar slot: ``(M,)`` slot of day (of the issue time).
    """

    x: np.ndarray
    y: np.ndarray
    day: np.ndarray
    instance: np.ndarray
    slot: np.ndarray


def _nanmean(values, axis):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        return np.nanmean(values, axis=axis)


def seasonal(y, categories, alpha=0.3):
    """Seasonal state known at the start of each day.

    :returns: ``(S, P)``: ``S`` ``(N, D, K)`` the value of the same slot on
        the latest earlier day of the day's category that has one;
        ``P`` ``(N, D, C, K)`` each category's smoothed profile before day d.
    """
    n, days, k = y.shape
    category_of_day = np.asarray(categories, dtype=int)
    n_categories = int(category_of_day.max()) + 1 if days else 1
    seasonal_naive = np.full(y.shape, np.nan)
    profiles = np.full((n, days, n_categories, k), np.nan)
    last_of_category = np.full((n, n_categories, k), np.nan)
    profile = np.full((n, n_categories, k), np.nan)
    for d in range(days):
        c = category_of_day[d]
        seasonal_naive[:, d] = last_of_category[:, c]
        profiles[:, d] = profile
        day = y[:, d]
        seen = ~np.isnan(day)
        last_of_category[:, c] = np.where(seen, day, last_of_category[:, c])
        old = profile[:, c]
        profile[:, c] = np.where(np.isnan(old), day, np.where(
            seen, alpha * day + (1 - alpha) * old, old))
    return seasonal_naive, profiles


def features(y, categories, t, lead=0, width=1, recent=None, state=None,
             alpha=0.3):
    """Features and targets of forecasts issued at flat slots ``t``.

    :param t: ``(T,)`` issue slots, ``1 <= t`` and
        ``t + lead + width <= D * K``.
    :param recent: slots averaged in the ``recent`` feature (default
        ``width``).
    :param state: ``seasonal(y, categories, alpha)`` if already computed.
    :returns: ``(x (N, T, 4), target (N, T))``
    """
    n, days, k = y.shape
    category_of_day = np.asarray(categories, dtype=int)
    seasonal_naive, profiles = (state if state is not None
                                else seasonal(y, category_of_day, alpha))
    y_flat, naive_flat = y.reshape(n, -1), seasonal_naive.reshape(n, -1)
    t = np.asarray(t, dtype=int)
    window = t[:, None] + lead + np.arange(width)[None, :]     # (T, width)
    recent_slots = t[:, None] - 1 - np.arange(recent or width)[None, :]
    past = np.where(recent_slots >= 0,
                    y_flat[:, np.clip(recent_slots, 0, None)], np.nan)
    window_profile = profiles[:, (t // k)[:, None],
                              category_of_day[window // k], window % k]
    x = np.stack([y_flat[:, t - 1], _nanmean(naive_flat[:, window], 2),
                  _nanmean(window_profile, 2), _nanmean(past, 2)], axis=2)
    return x, _nanmean(y_flat[:, window], 2)


def samples(y, categories, horizon, alpha=0.3, lead=0, recent=None,
            contiguous=True):
    """Build :class:`Samples` of every issue slot of ``Y`` ``(N, D, K)``.

    :param horizon: slots averaged in the target (e.g. 3 x 20 min = 1 h).
    :param lead: slots between the issue time and the target window.
    :param alpha: smoothing weight of the seasonal profile.
    :param contiguous: False when the days of ``Y`` are not consecutive:
        then only windows inside one day are used.
    """
    n, days, k = y.shape
    t = np.arange(1, days * k - lead - horizon + 1)
    if not contiguous:
        first = t - (recent or horizon)
        t = t[(first >= (t // k) * k)
              & ((t + lead + horizon - 1) // k == t // k)]
    if n == 0 or len(t) == 0:
        empty = np.zeros(0)
        return Samples(np.zeros((0, 4)), empty, empty, empty, empty)
    x, target = features(y, categories, t, lead, horizon, recent,
                         alpha=alpha)
    return Samples(x.reshape(-1, 4), target.reshape(-1),
                   np.tile(t // k, n), np.repeat(np.arange(n), len(t)),
                   np.tile(t % k, n))


def fit_regression(x, y, ridge=1e-3):
    """Ridge coefficients ``(5,)`` on complete rows of ``x`` ``(M, 4)``."""
    complete = np.all(np.isfinite(x), axis=1) & np.isfinite(y)
    rows = int(complete.sum())
    if rows < 10:
        return None
    x, y = x[complete], y[complete]
    # The normal equations of [1, x], without building that design matrix.
    column_sums = x.sum(axis=0)
    gram = np.empty((5, 5))
    gram[0, 0] = rows
    gram[0, 1:] = gram[1:, 0] = column_sums
    gram[1:, 1:] = x.T @ x
    gram[1:, 1:] += ridge * rows * np.eye(4)
    return np.linalg.solve(gram, np.concatenate([[y.sum()], x.T @ y]))


def predict_all(x, target, coef=None):
    """Forecasts of every model on ``x`` and where they can be compared.

    :returns: ``({name: forecasts}, mask)``: ``mask`` is True where the
        target and every model's forecast are finite.
    """
    forecasts = {name: predict(name, x, coef) for name in MODELS}
    comparable = np.isfinite(target)
    for forecast in forecasts.values():
        comparable &= np.isfinite(forecast)
    return forecasts, comparable


def predict(name, x, coef=None):
    """Forecasts of model ``name`` from features ``x`` ``(..., 4)``."""
    if name == 'regression':
        if coef is None:
            return np.full(x.shape[:-1], np.nan)
        pred = x @ np.asarray(coef)[1:] + coef[0]
        return np.clip(pred, 0.0, 100.0)
    return x[..., FEATURES.index(name)]
