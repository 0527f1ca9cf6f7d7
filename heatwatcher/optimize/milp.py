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
"""Exact MILP on a cell: a subset of hosts and the instances on them.

For cell hosts ``C`` (``K`` of them) and the movable instances ``I`` now on
them, with binaries ``x[i, h]`` (``i`` on ``h``), ``y[h]`` (``h`` active) and
``z[h]`` (loop host ``h`` reaches its target)::

    min  -W1 sum z + sum w[h] y[h] - sum_i c[i] x[i, home(i)]
    s.t. sum_h x[i, h] = 1                              every i in I
         sum_i d[i, r] x[i, h] <= (cap[h, r] - fix[h, r]) y[h]
         sum_i l[i] x[i, h] <= (lcap[h] - fixload[h]) y[h]
         sum_i x[i, h] <= |I| y[h]
         need'[h] z[h] <= sum_i l[i] x[i, h]           need' = need - fixload
         z[h] <= y[h]
         -sum_i x[i, home(i)] <= budget - |I|           with a move budget

Weights: ``w = K + 1`` on the loop, ``K + 2`` off it; ``W1 = K (K + 2) + 1``
and ``sum c < 1`` (RAM of the instance / (total RAM + 1)), so each level of
:class:`~.score.Score` strictly dominates the next. The heat row is written on
the need left after idle power and immovable load (the tighter form of
``target z <= idle y + heat``).
"""

import dataclasses

import numpy as np
from scipy import optimize
from scipy import sparse

from heatwatcher.optimize import problem as problem_mod


@dataclasses.dataclass
class CellResult:
    """Outcome of one cell solve.

    :ivar status: ``optimal``, ``time_limit`` or ``node_limit`` (``assign``
        is the best incumbent), ``no_solution`` (a limit was reached before
        any), ``infeasible`` or ``error``.
    :ivar assign: ``(N,)`` full assignment with the cell re-placed, or None.
    """

    status: str
    assign: np.ndarray
    message: str
    mip_gap: float = None


_STATUS = {0: 'optimal', 1: 'time_limit', 2: 'infeasible', 3: 'error',
           4: 'error'}


def solve_cell(problem, assign, hosts, capacity, load_cap, time_limit,
               mip_rel_gap=1e-4, move_budget=None, node_limit=None):
    """Re-place the movable instances on ``hosts`` among ``hosts``.

    :param assign: ``(N,)`` incumbent assignment; instances outside the cell
        and immovable ones keep their host.
    :param hosts: 1-D array of host indices forming the cell.
    :param move_budget: migrations allowed in the whole problem, or None.
    :param node_limit: branch-and-bound nodes allowed; a work limit, so the
        result does not depend on the machine's speed (``time_limit`` is a
        safety net).
    :returns: :class:`CellResult`.
    """
    hosts = np.asarray(hosts)
    k = len(hosts)
    local = np.full(problem.n_hosts, -1)
    local[hosts] = np.arange(k)
    insts = np.flatnonzero(problem.movable & (local[assign] >= 0))
    n = len(insts)
    if n == 0:
        return CellResult('optimal', assign.copy(), 'no movable instance')
    fix_used, fix_load = problem_mod.fixed_usage(problem)
    # Instances of the cell that are pinned stay; others outside the cell
    # do not touch cell hosts (they sit on other hosts).
    fix_used, fix_load = fix_used[hosts], fix_load[hosts]
    room = np.maximum(capacity[hosts] - fix_used, 0.0)
    lroom = np.maximum(load_cap[hosts] - fix_load, 0.0)
    need = np.maximum(problem.need[hosts] - fix_load, 0.0)
    can_reach = problem.loop[hosts] & np.isfinite(need)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts)[hosts] > 0

    nx = n * k
    iy, iz = nx, nx + k
    nvar = nx + 2 * k
    col = np.arange(nx).reshape(n, k)  # x[i, h] -> column
    demand, load = problem.demand[insts], problem.load[insts]

    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(row_cols, row_vals, lb, ub, count):
        nonlocal r
        rows.append(np.repeat(np.arange(r, r + count),
                              [len(c) for c in row_cols]))
        cols.append(np.concatenate(row_cols))
        vals.append(np.concatenate(row_vals))
        lo.append(np.full(count, lb) if np.isscalar(lb) else lb)
        hi.append(np.full(count, ub) if np.isscalar(ub) else ub)
        r += count

    # assignment
    add(list(col), [np.ones(k)] * n, 1.0, 1.0, n)
    # capacity per resource and load, linked to y
    for res in range(3):
        add([np.append(col[:, j], iy + j) for j in range(k)],
            [np.append(demand[:, res], -room[j, res]) for j in range(k)],
            -np.inf, 0.0, k)
    add([np.append(col[:, j], iy + j) for j in range(k)],
        [np.append(load, -lroom[j]) for j in range(k)], -np.inf, 0.0, k)
    add([np.append(col[:, j], iy + j) for j in range(k)],
        [np.append(np.ones(n), -float(n)) for j in range(k)], -np.inf, 0.0,
        k)
    # heat: need' z - sum l x <= 0 ; and z <= y
    add([np.append(col[:, j], iz + j) for j in range(k)],
        [np.append(-load, need[j] if can_reach[j] else 0.0)
         for j in range(k)], -np.inf, 0.0, k)
    add([np.array([iz + j, iy + j]) for j in range(k)],
        [np.array([1.0, -1.0])] * k, -np.inf, 0.0, k)
    home = local[problem.current[insts]]
    at_home = np.flatnonzero(home >= 0)
    if move_budget is not None:
        outside = int((assign != problem.current).sum()
                      - (assign[insts] != problem.current[insts]).sum())
        add([col[at_home, home[at_home]]], [-np.ones(len(at_home))],
            -np.inf, float(move_budget - outside - n), 1)

    a = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(r, nvar))
    w = np.where(problem.loop[hosts], k + 1.0, k + 2.0)
    w1 = k * (k + 2.0) + 1.0
    c = np.zeros(nvar)
    c[iy:iy + k] = w
    c[iz:iz + k] = -w1
    cost = problem.cost[insts]
    c[col[at_home, home[at_home]]] = -cost[at_home] / (cost.sum() + 1.0)
    lb = np.zeros(nvar)
    ub = np.ones(nvar)
    lb[iy:iy + k] = pinned.astype(float)
    ub[iz:iz + k] = can_reach.astype(float)
    try:
        res = optimize.milp(
            c, constraints=optimize.LinearConstraint(
                a, np.concatenate(lo), np.concatenate(hi)),
            integrality=np.ones(nvar), bounds=optimize.Bounds(lb, ub),
            options=dict({'time_limit': max(float(time_limit), 0.05),
                          'mip_rel_gap': float(mip_rel_gap), 'disp': False},
                         **({'node_limit': int(node_limit)}
                            if node_limit else {})))
    except (ValueError, MemoryError) as exc:
        return CellResult('error', None, str(exc))
    status = _STATUS.get(res.status, 'error')
    if status == 'time_limit' and 'node' in str(res.message).lower():
        status = 'node_limit'
    if res.x is None:
        if status in ('time_limit', 'node_limit'):
            status = 'no_solution'
        return CellResult(status, None, res.message)
    new = assign.copy()
    new[insts] = hosts[np.argmax(res.x[:nx].reshape(n, k), axis=1)]
    return CellResult(status, new, res.message,
                      getattr(res, 'mip_gap', None))
