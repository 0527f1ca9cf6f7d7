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
"""Fit the forecasting models on an audit's history and forecast the horizon.

Pure: the history matrix in, a :class:`Fitted` model and forecasts out.
Time is in slots (``slot_minutes`` long), flat over days: ``t = d * K + k``;
``now`` is the first slot without data, where the forecast starts.

Fitting backtests every model: the regression is fitted on the slots before
the last ``test_days`` days and every model is scored on forecasts issued
during those days (the accuracy window); the model with the lowest MAE is
chosen. The regression is then refitted on the whole history, one
coefficient vector for the mean over the horizon and one per slot of the
horizon (the forecast path damping works on).

The regression is pooled over instances: its five coefficients are fitted
on at most ``max_fit_rows`` (instance, slot) rows, from instances evenly
spaced in the matrix's order when there are more. The backtest scores
every instance. A cloud of 4,000 instances with 14 days of 20-minute slots
is fitted on all of them; at 50,000 instances the fit would otherwise hold
about 6 GB of features per coefficient vector.
"""

import dataclasses

import numpy as np

from heatwatcher.forecast import models

# Rows of the pooled regression's fit (instances x issue slots), at most.
MAX_FIT_ROWS = 4000000


@dataclasses.dataclass
class Fitted:
    """A fitted forecaster, or the reason there is none.

    :ivar chosen: model name (:data:`models.MODELS`) or None.
    :ivar coef_mean: ``(5,)`` regression for the horizon mean, or None.
    :ivar coef_leads: ``(h, 5)`` regression per horizon slot, or None.
    :ivar errors: ``{model: MAE}`` in CPU points of each instance's vCPUs.
    :ivar error: backtest MAE of the chosen model's host load, in percent
        of host capacity (mean over hosts); None without a backtest.
    :ivar host_errors: ``{hostname: MAE % of capacity}``.
    :ivar points: test forecasts scored.
    """

    chosen: str = None
    coef_mean: list = None
    coef_leads: list = None
    errors: dict = dataclasses.field(default_factory=dict)
    error: float = None
    host_errors: dict = dataclasses.field(default_factory=dict)
    points: int = 0
    reason: str = ''

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _coef(x, y):
    c = models.fit_regression(x.reshape(-1, 4), y.reshape(-1))
    return None if c is None else [float(v) for v in c]


def host_errors(pred, target, hosts, vcpus, cores):
    """MAE of host load forecasts, in percent of host capacity.

    :param pred: ``(N, T)`` instance forecasts (% of own vCPUs).
    :param target: ``(N, T)`` what happened.
    :param hosts: ``(N,)`` host index of each instance.
    :param vcpus: ``(N,)`` instance vCPUs; :param cores: ``(H,)`` host CPUs.
    :returns: ``(H,)`` MAE, NaN for hosts without a scored point.
    """
    err = (pred - target) * np.asarray(vcpus, float)[:, None] / 100.0
    ok = np.isfinite(err)
    cores = np.asarray(cores, float)
    total = np.zeros((len(cores), err.shape[1]))
    count = np.zeros(total.shape)
    np.add.at(total, hosts, np.where(ok, err, 0.0))
    np.add.at(count, hosts, ok)
    scored = count > 0                        # (H, T) points with a value
    points = scored.sum(axis=1)
    out = np.full(len(cores), np.nan)
    has = (points > 0) & (cores > 0)
    mae = np.where(scored, np.abs(total), 0.0).sum(axis=1)[has] / points[has]
    out[has] = mae / cores[has] * 100.0
    return out


def history_days(y, now):
    """Days from the first slot with data to ``now`` (``y`` ``(N, D, K)``)."""
    n, _, k = y.shape
    flat = y.reshape(n, -1)[:, :max(now, 0)]
    seen = np.flatnonzero(np.isfinite(flat).any(axis=0))
    return (now - seen[0]) / float(k) if len(seen) else 0.0


def fit_instances(n, slots, max_rows=MAX_FIT_ROWS):
    """Indices of the instances the pooled regression is fitted on.

    :param n: instances; :param slots: issue slots per instance.
    :returns: ``(m,)`` sorted indices: all ``n`` when ``n * slots`` is at
        most ``max_rows``, else ``max(1, max_rows // slots)`` evenly spaced.
    """
    wanted = max(1, int(max_rows) // max(int(slots), 1))
    if n <= wanted:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, wanted).round().astype(int))


def _subset(state, chosen):
    """The seasonal state of the instances ``chosen`` only."""
    seasonal_naive, profiles = state
    return seasonal_naive[chosen], profiles[chosen]


def fit(y, cats, now, horizon, *, test_days, hosts, vcpus, cores, names,
        alpha=0.3, max_fit_rows=MAX_FIT_ROWS, state=None):
    """Backtest the models on the last ``test_days`` days, then refit.

    :param y: ``(N, D, K)`` slot means (% of each instance's vCPUs).
    :param now: first flat slot without data.
    :param horizon: slots in the horizon.
    :param hosts, vcpus, cores, names: placement for the host errors
        (``(N,)`` host index, ``(N,)`` vCPUs, ``(H,)`` CPUs, ``(H,)`` names).
    :param max_fit_rows: rows (instances x slots) the regression is fitted
        on, at most (see :func:`fit_instances`).
    :param state: ``models.seasonal(y, cats, alpha)`` if already computed.
    :returns: :class:`Fitted`
    """
    n, days, k = y.shape
    test_start = now - test_days * k
    train_end = test_start - horizon          # last target ends before test
    span = history_days(y, now)
    if n == 0 or train_end < k + 1 or span < test_days + 1:
        return Fitted(reason='%.1f days of instance_cpu_usage history; '
                      'a backtest over %d day(s) needs at least %d'
                      % (span, test_days, test_days + 1))
    if state is None:
        state = models.seasonal(y, cats, alpha)
    # Forecasts of the horizon mean issued at every slot with a target;
    # the regression is fitted on the slots before train_end of the
    # chosen instances, every instance is scored on the test slots.
    t_all = np.arange(1, now - horizon + 1)
    chosen_rows = fit_instances(n, len(t_all), max_fit_rows)
    fit_y, fit_state = y[chosen_rows], _subset(state, chosen_rows)
    x_fit, target_fit = models.features(fit_y, cats, t_all, 0, horizon,
                                        state=fit_state)
    coef = _coef(x_fit[:, t_all < train_end],
                 target_fit[:, t_all < train_end])
    x, target = models.features(y, cats, t_all[t_all >= test_start], 0,
                                horizon, state=state)
    preds, ok = models.predict_all(x, target, coef)
    if not ok.any():
        return Fitted(reason='no forecast could be scored over the last '
                      '%d day(s)' % test_days)
    errors = {m: float(np.mean(np.abs(p - target)[ok]))
              for m, p in preds.items()}
    chosen = min(errors, key=errors.get)
    per_host = host_errors(preds[chosen], target, hosts, vcpus, cores)
    known = np.isfinite(per_host)
    fitted = Fitted(
        chosen=chosen, errors=errors, points=int(ok.sum()),
        error=float(np.mean(per_host[known])) if known.any() else None,
        host_errors={names[h]: float(per_host[h])
                     for h in np.flatnonzero(known)})
    fitted.coef_mean = _coef(x_fit, target_fit)
    del x_fit, target_fit
    leads = []
    for j in range(horizon):
        x, target = models.features(fit_y, cats, np.arange(1, now - j),
                                    j, 1, horizon, state=fit_state)
        leads.append(_coef(x, target))
    fitted.coef_leads = None if any(c is None for c in leads) else leads
    return fitted


def forecast(y, cats, now, horizon, fitted, alpha=0.3, state=None):
    """Forecast path of every instance over the horizon.

    :param state: ``models.seasonal(y, cats, alpha)`` if already computed.
    :returns: ``(path (N, horizon), mean (N,))`` in % of each instance's
        vCPUs; NaN where the model has no input (too little history).
    """
    n = y.shape[0]
    if fitted.chosen is None or n == 0:
        return np.full((n, horizon), np.nan), np.full(n, np.nan)
    if state is None:
        state = models.seasonal(y, cats, alpha)
    t = np.array([now])
    path = np.full((n, horizon), np.nan)
    for j in range(horizon):
        x, _ = models.features(y, cats, t, j, 1, horizon, state=state)
        coef = fitted.coef_leads[j] if fitted.coef_leads else None
        path[:, j] = models.predict(fitted.chosen, x, coef)[:, 0]
    x, _ = models.features(y, cats, t, 0, horizon, state=state)
    mean = models.predict(fitted.chosen, x, fitted.coef_mean)[:, 0]
    return path, mean


def reuse(record, key, now, retrain_interval, predict_only):
    """Decide whether saved models serve this run.

    :param record: ``{"key", "fitted_at" (epoch s), "fitted"}`` or None.
    :param key: settings the models depend on; other settings, refit.
    :param now: epoch seconds.
    :returns: ``(Fitted or None, reason)``; None means fit now.
    """
    if record is None:
        return None, 'no saved models'
    if record.get('key') != key:
        return None, 'saved models were fitted with other settings'
    try:
        fitted = Fitted.from_dict(record['fitted'])
        age = float(now) - float(record['fitted_at'])
    except (KeyError, TypeError, ValueError) as exc:
        return None, 'saved models unreadable (%s)' % exc
    if fitted.chosen is None:
        return None, 'no model was saved'
    if predict_only:
        return fitted, 'predict_only: saved models (%.0f s old) used' % age
    if age < retrain_interval:
        return fitted, ('saved models used (%.0f s old, retrain_interval '
                        '%d s)' % (age, retrain_interval))
    return None, ('saved models are %.0f s old (retrain_interval %d s)'
                  % (age, retrain_interval))
