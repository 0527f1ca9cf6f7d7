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

from heatwatcher.optimize import problem as placement_problem

# Larger LPs did not finish in minutes on 2 cores (600,000 columns at 1,000
# hosts); the closed-form bound is used instead.
MAX_LP_COLUMNS = 250_000


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
    fix_used, fix_load = placement_problem.fixed_usage(problem)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    need = problem.need - fix_load
    hosts = np.flatnonzero(problem.loop & np.isfinite(problem.need))
    free_reached = hosts[pinned[hosts] & (need[hosts] <= 1e-9)]
    hosts = hosts[~(pinned[hosts] & (need[hosts] <= 1e-9))]
    host_keys = np.column_stack([
        capacity[hosts] - fix_used[hosts], load_cap[hosts] - fix_load[hosts],
        np.maximum(need[hosts], 0.0), pinned[hosts]])
    class_keys, host_class, counts = np.unique(
        np.round(host_keys, 6), axis=0, return_inverse=True,
        return_counts=True)
    return hosts, free_reached, class_keys, host_class.ravel(), counts


def _max_load(demand, load, room, load_room):
    """Most load each host class can carry, instances divisible.

    For each resource alone, a fractional knapsack by load per unit of that
    resource; a class carries at most the smallest of these and its load
    cap. Valid for every integral placement.

    :param demand: ``(N, 3)``; :param load: ``(N,)`` of movable instances.
    :param room: ``(G, 3)``; :param load_room: ``(G,)`` free room per
        class.
    :returns: ``(G,)`` cores.
    """
    best = np.asarray(load_room, dtype=float).copy()
    for r in range(demand.shape[1]):
        resource_demand = demand[:, r]
        no_demand = resource_demand <= 1e-12
        order = np.argsort(-(load[~no_demand] / resource_demand[~no_demand]),
                           kind='stable')
        sorted_demand = resource_demand[~no_demand][order]
        sorted_load = load[~no_demand][order]
        cum_demand = np.concatenate([[0.0], np.cumsum(sorted_demand)])
        cum_load = np.concatenate([[0.0], np.cumsum(sorted_load)])
        n_whole = np.searchsorted(cum_demand, room[:, r], side='right') - 1
        total = cum_load[n_whole] + load[no_demand].sum()
        partial = n_whole < len(sorted_demand)
        next_item = n_whole[partial]
        total[partial] += (sorted_load[next_item]
                           * (room[partial, r] - cum_demand[next_item])
                           / sorted_demand[next_item])
        best = np.minimum(best, total)
    return best


def _load_sum_bound(problem, need, counts, already_reached, message):
    total = problem.load[problem.movable].sum()
    sorted_needs = np.repeat(need, counts)
    sorted_needs.sort()
    reachable = int(np.searchsorted(np.cumsum(sorted_needs), total + 1e-6,
                                    side='right'))
    return Bound(already_reached + reachable,
                 float(already_reached + reachable), 'load_sum', message)


def upper_bound(problem, capacity=None, load_cap=None, max_moves=None,
                time_limit=30.0):
    """Return a :class:`Bound` on the first objective level."""
    if capacity is None or load_cap is None:
        capacity, load_cap = placement_problem.effective_capacity(problem)
    hosts, free_reached, class_keys, host_class, counts = _classes(
        problem, capacity, load_cap)
    already_reached = len(free_reached)
    n_classes = len(counts)
    movable_idx = np.flatnonzero(problem.movable)
    n_movable = len(movable_idx)
    if n_classes == 0:
        return Bound(already_reached, float(already_reached), 'lp',
                     'no loop host can gain')
    room, load_room, need, pinned = (class_keys[:, :3], class_keys[:, 3],
                                     class_keys[:, 4], class_keys[:, 5] > 0)
    movable_demand, movable_load = (problem.demand[problem.movable],
                                    problem.load[problem.movable])
    reachable = (_max_load(movable_demand, movable_load, room, load_room)
                 >= need - 1e-9)
    z_upper = np.where(reachable, counts, 0)
    if n_movable * n_classes > MAX_LP_COLUMNS:
        return _load_sum_bound(problem, need, z_upper, already_reached,
                               'LP too large (%d columns)'
                               % (n_movable * n_classes))
    n_x = n_movable * n_classes
    x_column = np.arange(n_x).reshape(n_movable, n_classes)
    demand, load = problem.demand[movable_idx], problem.load[movable_idx]
    blocks, b_ub = [], []
    # sum_g x[i, g] <= 1
    blocks.append(sparse.csr_array(
        (np.ones(n_x), (np.repeat(np.arange(n_movable), n_classes),
                        x_column.ravel())),
        shape=(n_movable, n_x + n_classes)))
    b_ub.append(np.ones(n_movable))

    def per_class(coef, z_coef, rhs):
        rows = np.concatenate([np.tile(np.arange(n_classes), n_movable),
                               np.arange(n_classes)])
        cols = np.concatenate([x_column.ravel(),
                               n_x + np.arange(n_classes)])
        vals = np.concatenate([np.repeat(coef, n_classes), z_coef])
        blocks.append(sparse.csr_array((vals, (rows, cols)),
                                       shape=(n_classes, n_x + n_classes)))
        b_ub.append(rhs)

    for r in range(3):
        per_class(demand[:, r], np.zeros(n_classes), counts * room[:, r])
    per_class(load, np.zeros(n_classes), counts * load_room)
    per_class(-load, need, np.zeros(n_classes))
    unpinned = np.where(pinned, 0.0, 1.0)
    rows = np.concatenate([np.tile(np.arange(n_classes), n_movable),
                           np.arange(n_classes)])
    cols = np.concatenate([x_column.ravel(), n_x + np.arange(n_classes)])
    vals = np.concatenate([-np.tile(unpinned, n_movable), unpinned])
    blocks.append(sparse.csr_array((vals, (rows, cols)),
                                   shape=(n_classes, n_x + n_classes)))
    b_ub.append(np.zeros(n_classes))
    if max_moves is not None:
        # A move is counted when an instance joins a class other than its
        # home host's (or leaves its loop host for the off-loop hosts).
        class_of_host = np.full(problem.n_hosts, -1)
        class_of_host[hosts] = host_class
        home_class = class_of_host[problem.current[movable_idx]]
        coef = np.ones((n_movable, n_classes))
        on_loop = home_class >= 0
        coef[on_loop] = 0.0
        coef[np.flatnonzero(on_loop), home_class[on_loop]] = -1.0
        blocks.append(sparse.csr_array(coef.reshape(1, -1)))
        blocks[-1] = sparse.hstack([blocks[-1],
                                    sparse.csr_array((1, n_classes))]).tocsr()
        b_ub.append([max_moves - on_loop.sum()])
    a_ub = sparse.vstack(blocks).tocsr()
    c = np.concatenate([np.zeros(n_x), -np.ones(n_classes)])
    bounds = np.column_stack([np.zeros(n_x + n_classes),
                              np.concatenate([np.ones(n_x), z_upper])])
    try:
        lp_result = optimize.linprog(
            c, A_ub=a_ub, b_ub=np.concatenate(b_ub), bounds=bounds,
            method='highs-ipm',
            options={'time_limit': float(time_limit), 'disp': False})
    except (ValueError, MemoryError) as exc:
        return _load_sum_bound(problem, need, z_upper, already_reached,
                               str(exc))
    if lp_result.status != 0 or lp_result.x is None:
        return _load_sum_bound(problem, need, z_upper, already_reached,
                               'LP: %s' % lp_result.message)
    value = already_reached - float(lp_result.fun)
    return Bound(int(math.floor(value + 1e-6)), value, 'lp',
                 lp_result.message)
