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
"""A valid upper bound on the loop hosts that can reach their target.

The LP relaxation of the full problem (every instance, every host) is
aggregated over *host classes*: loop hosts with the same free capacity, load
cap, need and pinned status. Any integral placement maps onto the aggregated
LP (``x[i, g] = sum of x[i, h] over the hosts h of class g``), so its optimum
is an upper bound on the full problem's LP relaxation value restricted to the
first objective level, and ``floor`` of it bounds the integer optimum. With
``G`` classes the LP has ``N x G`` columns instead of ``N x H``; a cluster of a
few hardware types has a handful of classes.

Variables ``x[i, g] >= 0`` (movable instances) and ``0 <= z[g] <= m[g]``::

    max  sum_g z[g]
    s.t. sum_g x[i, g] <= 1                     (an instance may stay off-loop)
         sum_i d[i, r] x[i, g] <= m[g] room[g, r]       r = vCPU, RAM, disk
         sum_i l[i] x[i, g] <= m[g] lroom[g]
         need'[g] z[g] <= sum_i l[i] x[i, g]
         z[g] <= sum_i x[i, g]          (unpinned classes: a reached host is
                                         active, so holds an instance)
         migrations relaxed per class when a move budget is set

Classes that cannot carry their need even with divisible instances (a
fractional knapsack per resource, see :func:`_max_load`) are given no
``z``, which tightens the relaxation when one resource limits every host.

If the LP is too large or its solver fails, a weaker closed-form bound is
used: the most hosts whose needs, cheapest first, fit in the total movable
load.
"""

import dataclasses
import math

import numpy as np
from scipy import optimize
from scipy import sparse

from heatwatcher.optimize import problem as problem_mod

MAX_LP_COLUMNS = 4_000_000


@dataclasses.dataclass
class Bound:
    """Upper bound on the first objective level.

    :ivar reached: upper bound on loop hosts reaching target (int).
    :ivar value: the relaxation's optimum (float).
    :ivar method: ``lp`` or ``load_sum``.
    """

    reached: int
    value: float
    method: str
    message: str = ''


def _classes(problem, capacity, load_cap):
    fix_used, fix_load = problem_mod.fixed_usage(problem)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    need = problem.need - fix_load
    hosts = np.flatnonzero(problem.loop & np.isfinite(problem.need))
    free_reached = hosts[pinned[hosts] & (need[hosts] <= 1e-9)]
    hosts = hosts[~(pinned[hosts] & (need[hosts] <= 1e-9))]
    keys = np.column_stack([
        capacity[hosts] - fix_used[hosts], load_cap[hosts] - fix_load[hosts],
        np.maximum(need[hosts], 0.0), pinned[hosts]])
    uniq, inverse, counts = np.unique(np.round(keys, 6), axis=0,
                                      return_inverse=True, return_counts=True)
    return hosts, free_reached, uniq, inverse.ravel(), counts


def _max_load(demand, load, room, lroom):
    """Most load each host class can carry, instances divisible.

    For each resource alone, a fractional knapsack by load per unit of that
    resource; a class carries at most the smallest of these and its load
    cap. Valid for every integral placement.

    :param demand: ``(N, 3)``; :param load: ``(N,)`` of movable instances.
    :param room: ``(G, 3)``; :param lroom: ``(G,)`` free room per class.
    :returns: ``(G,)`` cores.
    """
    best = np.asarray(lroom, dtype=float).copy()
    for r in range(demand.shape[1]):
        d = demand[:, r]
        free = d <= 1e-12
        order = np.argsort(-(load[~free] / d[~free]), kind='stable')
        dd, ll = d[~free][order], load[~free][order]
        cum_d = np.concatenate([[0.0], np.cumsum(dd)])
        cum_l = np.concatenate([[0.0], np.cumsum(ll)])
        k = np.searchsorted(cum_d, room[:, r], side='right') - 1
        total = cum_l[k] + load[free].sum()
        part = k < len(dd)
        kk = k[part]
        total[part] += ll[kk] * (room[part, r] - cum_d[kk]) / dd[kk]
        best = np.minimum(best, total)
    return best


def _load_sum_bound(problem, need, counts, free, message):
    total = problem.load[problem.movable].sum()
    order = np.repeat(need, counts)
    order.sort()
    reachable = int(np.searchsorted(np.cumsum(order), total + 1e-6,
                                    side='right'))
    return Bound(free + reachable, float(free + reachable), 'load_sum',
                 message)


def upper_bound(problem, capacity=None, load_cap=None, max_moves=None,
                time_limit=30.0):
    """Return a :class:`Bound` on the first objective level."""
    if capacity is None or load_cap is None:
        capacity, load_cap = problem_mod.effective_capacity(problem)
    hosts, free_reached, keys, inverse, counts = _classes(
        problem, capacity, load_cap)
    free = len(free_reached)
    g = len(counts)
    mov = np.flatnonzero(problem.movable)
    n = len(mov)
    if g == 0:
        return Bound(free, float(free), 'lp', 'no loop host can gain')
    room, lroom, need, pinned = (keys[:, :3], keys[:, 3], keys[:, 4],
                                 keys[:, 5] > 0)
    movable_d, movable_l = (problem.demand[problem.movable],
                            problem.load[problem.movable])
    reachable = _max_load(movable_d, movable_l, room, lroom) >= need - 1e-9
    counts_z = np.where(reachable, counts, 0)
    if n * g > MAX_LP_COLUMNS:
        return _load_sum_bound(problem, need, counts_z, free,
                               'LP too large (%d columns)' % (n * g))
    nx = n * g
    col = np.arange(nx).reshape(n, g)
    demand, load = problem.demand[mov], problem.load[mov]
    blocks, b_ub = [], []
    # sum_g x[i, g] <= 1
    blocks.append(sparse.csr_array(
        (np.ones(nx), (np.repeat(np.arange(n), g), col.ravel())),
        shape=(n, nx + g)))
    b_ub.append(np.ones(n))

    def per_class(coef, zcoef, rhs):
        rows = np.concatenate([np.tile(np.arange(g), n), np.arange(g)])
        cols = np.concatenate([col.ravel(), nx + np.arange(g)])
        vals = np.concatenate([np.repeat(coef, g), zcoef])
        blocks.append(sparse.csr_array((vals, (rows, cols)),
                                       shape=(g, nx + g)))
        b_ub.append(rhs)

    for r in range(3):
        per_class(demand[:, r], np.zeros(g), counts * room[:, r])
    per_class(load, np.zeros(g), counts * lroom)
    per_class(-load, need, np.zeros(g))
    unpinned = np.where(pinned, 0.0, 1.0)
    rows = np.concatenate([np.tile(np.arange(g), n), np.arange(g)])
    cols = np.concatenate([col.ravel(), nx + np.arange(g)])
    vals = np.concatenate([-np.tile(unpinned, n), unpinned])
    blocks.append(sparse.csr_array((vals, (rows, cols)), shape=(g, nx + g)))
    b_ub.append(np.zeros(g))
    if max_moves is not None:
        # A move is counted when an instance joins a class other than its
        # home host's (or leaves its loop host for the off-loop hosts).
        home = np.full(problem.n_hosts, -1)
        home[hosts] = inverse
        hg = home[problem.current[mov]]
        coef = np.ones((n, g))
        on_loop = hg >= 0
        coef[on_loop] = 0.0
        coef[np.flatnonzero(on_loop), hg[on_loop]] = -1.0
        blocks.append(sparse.csr_array(coef.reshape(1, -1)))
        blocks[-1] = sparse.hstack([blocks[-1],
                                    sparse.csr_array((1, g))]).tocsr()
        b_ub.append([max_moves - on_loop.sum()])
    a_ub = sparse.vstack(blocks).tocsr()
    c = np.concatenate([np.zeros(nx), -np.ones(g)])
    bounds = np.column_stack([np.zeros(nx + g),
                              np.concatenate([np.ones(nx), counts_z])])
    try:
        res = optimize.linprog(c, A_ub=a_ub, b_ub=np.concatenate(b_ub),
                               bounds=bounds, method='highs-ipm',
                               options={'time_limit': float(time_limit),
                                        'disp': False})
    except (ValueError, MemoryError) as exc:
        return _load_sum_bound(problem, need, counts_z, free, str(exc))
    if res.status != 0 or res.x is None:
        return _load_sum_bound(problem, need, counts_z, free,
                               'LP: %s' % res.message)
    value = free - float(res.fun)
    return Bound(int(math.floor(value + 1e-6)), value, 'lp', res.message)
