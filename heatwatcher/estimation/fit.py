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
"""Fit a host's power curve from its telemetry.

Model: power (W) as a piecewise-linear, monotone non-decreasing function of
CPU utilisation ``u`` in [0, 1] on the fixed breakpoints 0, 0.1, ..., 1::

    P(u) = b + sum_k s_k * clip(u - x_k, 0, 0.1),    b >= 0, s_k >= 0

solved with ``scipy.optimize.least_squares`` under those bounds, with a
Huber loss (robust to outliers: a spike of 3x the power weighs like a
moderate error) and a small penalty on slope changes, so that segments with
no data continue the slope of their neighbours instead of jumping. The
result is the 11-point curve ``P(0), P(0.1), ..., P(1)``.

A fit is rejected (and the caller falls back) when there are fewer than
``min_samples`` usable pairs or when the observed utilisation spans less
than ``min_range`` between its 5th and 95th percentiles.
"""

import dataclasses

import numpy as np
from scipy import optimize

from heatwatcher import timestamps

GRID = np.linspace(0.0, 1.0, 11)


@dataclasses.dataclass
class Fit:
    """Outcome of :func:`fit_curve`.

    :ivar curve: ``(11,)`` W at 0, 10, ..., 100 % CPU, or None if rejected.
    :ivar samples: usable (utilisation, power) pairs.
    :ivar r2: coefficient of determination on those pairs.
    :ivar mape: mean absolute percentage error on those pairs (%).
    :ivar reason: why the fit was rejected (None if accepted).
    """

    curve: np.ndarray
    samples: int
    r2: float = None
    mape: float = None
    reason: str = None


def join_series(power, util, granularity):
    """Pair two ``{timestamp: value}`` series on common time buckets.

    Timestamps (ISO strings, datetimes or epoch seconds) are floored to
    ``granularity`` seconds; several samples in one bucket are averaged, and
    only buckets present in both series with finite values are kept, so
    misaligned or duplicated timestamps do not pair unrelated samples.

    :returns: ``(util (n,) in [0, 1], power (n,) W)``
    """
    def buckets(series):
        out = {}
        for ts, value in (series or {}).items():
            v = _number(value)
            if not np.isfinite(v):
                continue
            key = int(timestamps.epoch(ts) // granularity)
            out.setdefault(key, []).append(v)
        return {k: float(np.mean(v)) for k, v in out.items()}

    p, u = buckets(power), buckets(util)
    keys = sorted(set(p) & set(u))
    up = np.array([[u[k], p[k]] for k in keys], dtype=float).reshape(-1, 2)
    ok = (up[:, 0] >= 0) & (up[:, 0] <= 100) & (up[:, 1] > 0)
    return up[ok, 0] / 100.0, up[ok, 1]


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def to_grid(series, start, step, n):
    """Put a ``{timestamp: value}`` series on a regular grid.

    :returns: ``(n,)`` bucket means from ``start`` (epoch s) every ``step``
        s; NaN where no sample.
    """
    items = list((series or {}).items())
    t = np.fromiter((timestamps.epoch(ts) for ts, _ in items), float,
                    len(items))
    v = np.fromiter((_number(x) for _, x in items), float, len(items))
    k = np.floor((t - start) / step)
    ok = (k >= 0) & (k < n) & np.isfinite(v)
    k = k[ok].astype(int)
    sums = np.bincount(k, weights=v[ok], minlength=n)
    counts = np.bincount(k, minlength=n)
    out = np.full(n, np.nan)
    have = counts > 0
    out[have] = sums[have] / counts[have]
    return out


def fit_hosts(power, util, granularity, min_samples, min_range):
    """Fit every host that has series in both ``power`` and ``util``.

    :param power: ``{hostname: {timestamp: W}}`` (host_power).
    :param util: ``{hostname: {timestamp: %}}`` (host_cpu_usage).
    :returns: ``{hostname: Fit}``
    """
    out = {}
    for name in sorted(set(power) | set(util)):
        if name not in power or name not in util:
            missing = 'host_power' if name not in power else \
                'host_cpu_usage'
            out[name] = Fit(None, 0, reason='no %s history' % missing)
            continue
        u, p = join_series(power[name], util[name], granularity)
        out[name] = fit_curve(u, p, min_samples, min_range)
    return out


def _basis(u):
    """``(n, 11)`` design matrix: intercept and 10 segment ramps."""
    u = np.asarray(u, dtype=float)
    ramps = np.clip(u[:, None] - GRID[None, :-1], 0.0, 0.1)
    return np.column_stack([np.ones(len(u)), ramps])


def fit_curve(util, power, min_samples=100, min_range=0.15,
              smoothing=0.01):
    """Fit the monotone piecewise-linear power curve.

    :param util: ``(n,)`` CPU utilisation in [0, 1].
    :param power: ``(n,)`` measured power (W), aligned with ``util``.
    :param smoothing: weight of the slope-change penalty, relative to the
        typical power (W per unit of slope).
    :returns: :class:`Fit`
    """
    util = np.asarray(util, dtype=float)
    power = np.asarray(power, dtype=float)
    n = len(util)
    if n < min_samples:
        return Fit(None, n, reason='%d samples, fewer than min_fit_samples '
                                   '%d' % (n, min_samples))
    lo, hi = np.percentile(util, [5, 95])
    if hi - lo < min_range:
        return Fit(None, n, reason='utilisation spans %.0f-%.0f %% (5th-95th '
                                   'percentile), narrower than %.0f points'
                                   % (100 * lo, 100 * hi, 100 * min_range))
    a = _basis(util)
    scale = float(np.median(power))
    lam = smoothing * scale * np.sqrt(n) / 10.0
    diff = np.zeros((9, 11))
    for k in range(9):
        diff[k, k + 1], diff[k, k + 2] = -0.1 * lam / scale, \
            0.1 * lam / scale

    def residuals(theta):
        return np.concatenate([(a @ theta - power) / scale, diff @ theta])

    x0 = np.concatenate([[max(np.percentile(power, 5), 0.0)],
                         np.full(10, max(np.ptp(power), 1.0))])
    res = optimize.least_squares(
        residuals, x0, bounds=(np.zeros(11), np.full(11, np.inf)),
        loss='huber', f_scale=0.02, method='trf', x_scale='jac')
    theta = res.x
    pred = a @ theta
    ss_res = float(np.sum((power - pred) ** 2))
    ss_tot = float(np.sum((power - power.mean()) ** 2))
    curve = _basis(GRID) @ theta
    return Fit(curve=np.maximum.accumulate(curve), samples=n,
               r2=1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0,
               mape=float(100.0 * np.mean(np.abs(pred - power) / power)))


def linear_curve(idle, peak):
    """``(11,)`` curve of the linear idle/max model."""
    return idle + (peak - idle) * GRID
