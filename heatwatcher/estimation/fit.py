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

solved under those bounds (:func:`huber_nnls`), with a
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
    """Pair two series on common time buckets.

    Timestamps are floored to ``granularity`` seconds; several samples in
    one bucket are averaged, and only buckets present in both series with
    finite values are kept, so misaligned or duplicated timestamps do not
    pair unrelated samples.

    :param power: host_power series, :class:`~heatwatcher.timestamps.
        Samples` or ``{timestamp: W}`` (ISO text, datetimes or epoch s).
    :param util: host_cpu_usage series in %, same forms.
    :returns: ``(util (n,) in [0, 1], power (n,) W)``, by bucket time.
    """
    power_keys, power_means = _bucket_means(power, granularity)
    util_keys, util_means = _bucket_means(util, granularity)
    _, in_power, in_util = np.intersect1d(power_keys, util_keys,
                                          assume_unique=True,
                                          return_indices=True)
    util_pairs, power_pairs = util_means[in_util], power_means[in_power]
    valid = (util_pairs >= 0) & (util_pairs <= 100) & (power_pairs > 0)
    return util_pairs[valid] / 100.0, power_pairs[valid]


def _bucket_means(series, granularity):
    """``(sorted bucket numbers (m,), mean value per bucket (m,))``."""
    samples = timestamps.samples(series)
    finite = np.isfinite(samples.values)
    buckets = np.floor_divide(samples.times[finite], granularity)
    keys, inverse = np.unique(buckets, return_inverse=True)
    sums = np.bincount(inverse, weights=samples.values[finite],
                       minlength=len(keys))
    counts = np.bincount(inverse, minlength=len(keys))
    return keys, sums / np.maximum(counts, 1)


# Samples gridded at once by :func:`to_grid_many`: bounds its temporaries.
GRID_CHUNK_SAMPLES = 1 << 22


def to_grid(series, start, step, n):
    """Put one series on a regular grid.

    :param series: :class:`~heatwatcher.timestamps.Samples`,
        ``{timestamp: value}`` or None.
    :param start: epoch s of the first bucket; :param step: bucket width
        (s); :param n: buckets.
    :returns: ``(n,)`` bucket means from ``start`` every ``step`` s; NaN
        where no sample.
    """
    return to_grid_many([series], start, step, n)[0]


def to_grid_many(series_list, start, step, n):
    """Put many series on the same regular grid, vectorised.

    :param series_list: sequence of ``S`` series (:class:`~heatwatcher.
        timestamps.Samples`, ``{timestamp: value}`` or None).
    :returns: ``(S, n)`` bucket means (NaN where a bucket has no finite
        sample), rows in the order of ``series_list``.
    """
    converted = timestamps.samples_many(series_list)
    grid = np.full((len(converted), n), np.nan)
    sharing = {}
    for row, samples in enumerate(converted):
        sharing.setdefault(id(samples.times), (samples.times, []))[1].append(
            row)
    general = []
    for times, rows in sharing.values():
        if not _grid_shared(converted, times, rows, start, step, n, grid):
            general += rows
    general.sort()
    first = 0
    while first < len(general):
        last, held = first, 0
        while last < len(general) and (
                last == first or held + len(converted[general[last]])
                <= GRID_CHUNK_SAMPLES):
            held += len(converted[general[last]])
            last += 1
        rows = general[first:last]
        block = np.full((len(rows), n), np.nan)
        _grid_rows([converted[row] for row in rows], start, step, n, block)
        grid[rows] = block
        first = last
    return grid


def _grid_shared(converted, times, rows, start, step, n, grid):
    """Grid ``rows`` sharing one ``times`` array, buckets computed once.

    With at most one sample per bucket, each row's values are copied in.

    :returns: False (nothing done) when two samples fall in one bucket.
    """
    bucket = np.floor((times - start) / step)
    in_range = (bucket >= 0) & (bucket < n)
    columns = bucket[in_range].astype(np.int64)
    if len(columns) > 1 and not np.all(np.diff(columns) > 0):
        return False
    per_chunk = max(1, GRID_CHUNK_SAMPLES // max(len(columns), 1))
    for first in range(0, len(rows), per_chunk):
        chunk = rows[first:first + per_chunk]
        values = np.stack([converted[row].values[in_range] for row in chunk])
        values[~np.isfinite(values)] = np.nan
        grid[np.array(chunk)[:, None], columns[None, :]] = values
    return True


def _grid_rows(rows, start, step, n, out):
    """Bucket means of ``rows`` (list of Samples) into ``out`` ``(R, n)``."""
    lengths = [len(samples) for samples in rows]
    if not sum(lengths):
        return
    times = np.concatenate([samples.times for samples in rows])
    values = np.concatenate([samples.values for samples in rows])
    row_of = np.repeat(np.arange(len(rows)), lengths)
    bucket = np.floor((times - start) / step)
    in_range = (bucket >= 0) & (bucket < n) & np.isfinite(values)
    cell = row_of[in_range] * n + bucket[in_range].astype(np.int64)
    sums = np.bincount(cell, weights=values[in_range],
                       minlength=len(rows) * n)
    counts = np.bincount(cell, minlength=len(rows) * n)
    have = counts > 0
    flat = out.reshape(-1)
    flat[have] = sums[have] / counts[have]


def fit_hosts(power, util, granularity, min_samples, min_range):
    """Fit every host that has series in both ``power`` and ``util``.

    :param power: ``{hostname: {timestamp: W}}`` (host_power).
    :param util: ``{hostname: {timestamp: %}}`` (host_cpu_usage).
    :returns: ``{hostname: Fit}``
    """
    fits = {}
    for name in sorted(set(power) | set(util)):
        if name not in power or name not in util:
            missing = 'host_power' if name not in power else \
                'host_cpu_usage'
            fits[name] = Fit(None, 0, reason='no %s history' % missing)
            continue
        host_util, host_power = join_series(power[name], util[name],
                                            granularity)
        fits[name] = fit_curve(host_util, host_power, min_samples, min_range)
    return fits


def _basis(u):
    """``(n, 11)`` design matrix: intercept and 10 segment ramps."""
    u = np.asarray(u, dtype=float)
    ramps = np.clip(u[:, None] - GRID[None, :-1], 0.0, 0.1)
    return np.column_stack([np.ones(len(u)), ramps])


# Residuals (relative to the median power) beyond which the loss is linear.
HUBER_SCALE = 0.02
# Iterations of :func:`huber_nnls` (it needs a few tens).
HUBER_ITERATIONS = 500


def huber_nnls(matrix, target, huber_scale, tolerance=1e-10):
    """Non-negative coefficients minimising a Huber loss of the residuals.

    Minimises ``sum(huber(matrix @ theta - target))`` over ``theta >= 0``,
    where ``huber(r)`` is ``r**2 / 2`` up to ``|r| = huber_scale`` and
    linear beyond. Iteratively reweighted least squares: each iteration
    weighs every residual by ``min(1, huber_scale / |r|)`` and solves the
    weighted problem exactly, compressed to its ``(m, m)`` normal
    equations (so each iteration costs one pass over the rows, and no
    factorisation of the ``(n, m)`` matrix, which LAPACK does slowly with
    several threads). Each iteration minimises a quadratic that lies above
    the loss and touches it at the current coefficients, so the loss never
    increases; the problem is convex, so it converges to its minimum.

    :param matrix: ``(n, m)``; :param target: ``(n,)``.
    :param tolerance: stop when no coefficient moves by more than this
        times the largest one.
    :returns: ``(m,)`` coefficients.
    """
    weights = np.ones(len(target))
    theta = None
    for _ in range(HUBER_ITERATIONS):
        weighted = matrix * weights[:, None]
        normal = matrix.T @ weighted
        normal[np.diag_indices_from(normal)] += 1e-12 * np.trace(normal)
        try:
            lower = np.linalg.cholesky(normal)
            right = np.linalg.solve(lower, weighted.T @ target)
            updated, _ = optimize.nnls(lower.T, right)
        except np.linalg.LinAlgError:
            # not positive definite: solve the weighted rows themselves
            root = np.sqrt(weights)
            updated, _ = optimize.nnls(matrix * root[:, None],
                                       target * root)
        if theta is not None and np.max(np.abs(updated - theta)) <= (
                tolerance * max(np.max(np.abs(updated)), 1.0)):
            return updated
        theta = updated
        residual = np.abs(matrix @ theta - target)
        weights = huber_scale / np.maximum(residual, huber_scale)
    return theta


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
    util_p5, util_p95 = np.percentile(util, [5, 95])
    if util_p95 - util_p5 < min_range:
        return Fit(None, n, reason='utilisation spans %.0f-%.0f %% (5th-95th '
                                   'percentile), narrower than %.0f points'
                                   % (100 * util_p5, 100 * util_p95,
                                      100 * min_range))
    design = _basis(util)
    scale = float(np.median(power))
    penalty_weight = smoothing * scale * np.sqrt(n) / 10.0
    slope_change = np.zeros((9, 11))
    for k in range(9):
        slope_change[k, k + 1], slope_change[k, k + 2] = \
            -0.1 * penalty_weight / scale, 0.1 * penalty_weight / scale
    theta = huber_nnls(np.vstack([design / scale, slope_change]),
                       np.concatenate([power / scale, np.zeros(9)]),
                       HUBER_SCALE)
    fitted = design @ theta
    ss_res = float(np.sum((power - fitted) ** 2))
    ss_tot = float(np.sum((power - power.mean()) ** 2))
    curve = _basis(GRID) @ theta
    return Fit(curve=np.maximum.accumulate(curve), samples=n,
               r2=1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0,
               mape=float(100.0 * np.mean(np.abs(fitted - power) / power)))


def linear_curve(idle, peak):
    """``(11,)`` curve of the linear idle/max model."""
    return idle + (peak - idle) * GRID
