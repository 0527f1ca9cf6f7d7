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

With ``harvested`` (under a migration budget), a second MILP keeps the
first one's hosts at target in the cell (``sum z >= R``) and maximises
their heat instead, on the secant of each curve above its need, with
continuous ``u[h] <= sum_i l[i] x[i, h]`` and ``u[h] <= lroom[h] z[h]``
(as in :mod:`~.budget`); active hosts, then staying home, break ties
(under 1 W in all).
"""

import dataclasses

import numpy as np
from scipy import optimize
from scipy import sparse

from heatwatcher.optimize import problem as placement_problem


@dataclasses.dataclass
class CellResult:
    """Outcome of one cell solve.

    Statuses, from scipy's ``milp`` status (0 optimal, 1 iteration or time
    limit, 2 infeasible, 3 unbounded, 4 other, see its message) and whether
    it returned a solution ``x`` that satisfies the cell's constraints:

    ``optimal``
        Status 0; ``assign`` is optimal within ``mip_rel_gap``.
    ``time_limit``
        Status 1 with a solution; ``assign`` is the best incumbent.
    ``node_limit``
        Status 4 "solution limit reached" (what HiGHS reports when the
        branch-and-bound node limit stops it) with a solution; ``assign``
        is the best incumbent.
    ``limit``
        Status 4 for any other reason, with a feasible solution; ``assign``
        is that incumbent. ``message`` says what stopped the solve.
    ``no_solution``
        Status 1, or status 4 "solution limit reached", before any feasible
        solution was found; ``assign`` is None.
    ``infeasible``, ``unbounded``
        Status 2 or 3; ``assign`` is None.
    ``error``
        Status 4 without a feasible solution, a status scipy does not
        document, or an exception from the solver; ``assign`` is None.

    :ivar status: one of the statuses above.
    :ivar assign: ``(N,)`` full assignment with the cell re-placed, or None.
    :ivar message: the solver's message.
    :ivar mip_gap: relative gap between incumbent and bound, when known.
    """

    status: str
    assign: np.ndarray
    message: str
    mip_gap: float = None


# scipy.optimize.milp's documented statuses. 4 ("other") is refined by
# _classify from its message and whether a solution came back.
_OPTIMAL, _LIMIT_REACHED, _INFEASIBLE, _UNBOUNDED, _OTHER = range(5)
_SOLUTION_LIMIT = 'solution limit'
# Slack allowed on constraints and integrality when checking an incumbent.
_FEASIBILITY_TOLERANCE = 1e-6


def _is_feasible_solution(solution, matrix, row_lower, row_upper, bounds,
                          integrality=None):
    """True if ``solution`` is integral and meets every row and bound.

    :param integrality: ``(columns,)``, 1 for the integer columns (all of
        them by default).
    """
    solution = np.asarray(solution, dtype=float)
    if solution.shape != (matrix.shape[1],) or not np.all(
            np.isfinite(solution)):
        return False
    tol = _FEASIBILITY_TOLERANCE
    integer = (np.ones(len(solution), bool) if integrality is None
               else np.asarray(integrality) > 0)
    if np.any(np.abs(solution[integer] - np.round(solution[integer]))
              > tol):
        return False
    if np.any(solution < bounds.lb - tol) or np.any(
            solution > bounds.ub + tol):
        return False
    activity = matrix @ solution
    return bool(np.all(activity >= row_lower - tol)
                and np.all(activity <= row_upper + tol))


def _classify(scipy_status, message, has_solution):
    """Map scipy's ``milp`` status to a :class:`CellResult` status.

    :param has_solution: scipy returned an ``x`` that satisfies the
        problem's constraints.
    """
    if scipy_status == _OPTIMAL:
        return 'optimal' if has_solution else 'error'
    if scipy_status == _INFEASIBLE:
        return 'infeasible'
    if scipy_status == _UNBOUNDED:
        return 'unbounded'
    if scipy_status == _LIMIT_REACHED:
        return 'time_limit' if has_solution else 'no_solution'
    if scipy_status == _OTHER:
        # scipy 1.17 does not translate HiGHS's kSolutionLimit (node,
        # leaf and improving-solution limits) and reports it as "other".
        if _SOLUTION_LIMIT in str(message).lower():
            return 'node_limit' if has_solution else 'no_solution'
        return 'limit' if has_solution else 'error'
    return 'error'


def solve_cell(problem, assign, hosts, capacity, load_cap, time_limit,
               mip_rel_gap=1e-4, move_budget=None, node_limit=None,
               harvested=False):
    """Re-place the movable instances on ``hosts`` among ``hosts``.

    :param assign: ``(N,)`` incumbent assignment; instances outside the cell
        and immovable ones keep their host.
    :param hosts: 1-D array of host indices forming the cell.
    :param move_budget: migrations allowed in the whole problem, or None.
    :param node_limit: branch-and-bound nodes allowed; a work limit, so the
        result does not depend on the machine's speed (``time_limit`` is a
        safety net).
    :param harvested: then maximise the harvested heat at as many hosts
        at target (a second MILP, sharing ``time_limit``).
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
    fix_used, fix_load = placement_problem.fixed_usage(problem)
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
    row_lower, row_upper = np.concatenate(lo), np.concatenate(hi)
    options = {'time_limit': max(float(time_limit)
                                 / (2.0 if harvested else 1.0), 0.05),
               'mip_rel_gap': float(mip_rel_gap), 'disp': False}
    if node_limit:
        options['node_limit'] = int(node_limit)
    status, solution, message, gap = _run(
        c, a, row_lower, row_upper, np.ones(nvar), optimize.Bounds(lb, ub),
        options)
    if solution is None:
        return CellResult(status, None, message, gap)
    if harvested:
        # Second MILP: columns x, y, z, then u; the same rows, then
        # u - sum l x <= 0, u - lroom z <= 0 and sum z >= R.
        iu = nvar
        u_rows = sparse.csr_array(
            (np.concatenate([np.ones(k), -np.tile(load, k),
                             np.ones(k), -lroom]),
             (np.concatenate([np.arange(k), np.repeat(np.arange(k), n),
                              k + np.arange(k), k + np.arange(k)]),
              np.concatenate([iu + np.arange(k), col.T.ravel(),
                              iu + np.arange(k), iz + np.arange(k)]))),
            shape=(2 * k, nvar + k))
        reached_row = np.zeros((1, nvar + k))
        reached_row[0, iz:iz + k] = 1.0
        matrix = sparse.vstack([
            sparse.hstack([a, sparse.csr_array((r, k))]), u_rows,
            sparse.csr_array(reached_row)]).tocsr()
        span = lroom - np.where(can_reach, need, 0.0)
        slope = np.where(can_reach & (span > 1e-9),
                         (problem.heat_at(load_cap)[hosts]
                          - problem.target[hosts]) / np.maximum(span, 1e-9),
                         0.0)
        heat = np.zeros(nvar + k)
        heat[iz:iz + k] = -np.where(
            can_reach, problem.target[hosts]
            - slope * np.where(can_reach, need, 0.0), 0.0)
        heat[iu:iu + k] = -slope
        heat[iy:iy + k] = w / (2.0 * (k + 2.0) ** 2)
        heat[col[at_home, home[at_home]]] = -0.5 / (k + 2.0) / (n + 1.0)
        integrality = np.append(np.ones(nvar), np.zeros(k))
        _, second, _, _ = _run(
            heat, matrix,
            np.concatenate([row_lower, np.full(2 * k, -np.inf),
                            [float(np.round(solution[iz:iz + k].sum()))]]),
            np.concatenate([row_upper, np.zeros(2 * k), [np.inf]]),
            integrality, optimize.Bounds(np.append(lb, np.zeros(k)),
                                         np.append(ub, lroom)), options)
        if second is not None:
            solution = second
    new = assign.copy()
    new[insts] = hosts[np.argmax(solution[:nx].reshape(n, k), axis=1)]
    return CellResult(status, new, message, gap)


def _run(objective, matrix, row_lower, row_upper, integrality, bounds,
         options):
    """One MILP: ``(status, solution or None, message, mip_gap)``.

    Only a solution of an optimal or stopped solve is an incumbent, and
    only if it meets the constraints.
    """
    try:
        res = optimize.milp(
            objective, constraints=optimize.LinearConstraint(
                matrix, row_lower, row_upper),
            integrality=integrality, bounds=bounds, options=options)
    except (ValueError, MemoryError) as exc:
        return 'error', None, str(exc), None
    has_solution = (res.x is not None
                    and res.status in (_OPTIMAL, _LIMIT_REACHED, _OTHER)
                    and _is_feasible_solution(res.x, matrix, row_lower,
                                              row_upper, bounds,
                                              integrality))
    status = _classify(res.status, res.message, has_solution)
    return (status, res.x if has_solution else None, res.message,
            getattr(res, 'mip_gap', None))
