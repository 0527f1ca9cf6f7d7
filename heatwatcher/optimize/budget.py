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
"""The best subset of a plan's migrations for a migration budget.

Given a plan (``target``, found without a budget), choose which of its
migrations to make, at most ``budget`` of them, for the best
:class:`~.score.Score`: the most hosts at target, then the fewest active
hosts, the fewest active off the loop, then the fewest migrations. Every
other instance stays home. With binaries ``m[i]`` (instance ``i`` moves
to ``target[i]``), ``z[h]`` (loop host ``h`` reaches target) and ``y[h]``
(``h`` active), and ``load[h] = home_load[h] - sum_{home(i) = h} l[i] m[i]
+ sum_{target(i) = h} l[i] m[i]`` (likewise for resources and counts)::

    min  -W1 sum z + sum w[h] y[h] + sum (1 + c[i]) m[i] / (2 M + 1)
    s.t. used[h, r] <= cap[h, r]            load[h] <= lcap[h]
         need[h] z[h] <= load[h]             z[h] <= count[h] (unpinned)
         count[h] <= (home_count[h] + incoming[h]) y[h]
         sum m <= budget

``M`` moves in ``target``; weights as in :mod:`~.milp` (``w = H + 1`` on the
loop, ``H + 2`` off it, ``W1 = H (H + 2) + 1``), so the levels stay ordered.
The budget is a constraint of the optimisation, not a cut-off of the plan:
hosts the plan fills are filled only if enough of their migrations fit in
the budget, and hosts it empties are emptied only if all of theirs do.

With ``harvested``, a second MILP keeps the first one's hosts at target
(``sum z >= R``) and maximises the harvested heat instead: with continuous
``u[h] <= load[h]``, ``u[h] <= lcap[h] z[h]`` (the load of ``h`` when it
reaches target, else 0), the heat of a host at target is taken on the
secant of its curve above its need, ``target[h] + s[h] (u[h] - need[h]
z[h])`` with ``s[h] = (curve(lcap[h]) - target[h]) / (lcap[h] - need[h])``
(exact for linear curves); active hosts and migrations only break ties
(their terms add up to less than 1 W).

:func:`worth_making` prices migrations instead of counting them: on the
same rows, without a budget, it minimises ``-heat + sum idle[h] y[h] +
lambda sum m`` (W, ``heat`` the secant heat above and ``idle`` each host's
power at 0 % CPU), so that a migration is made only when what it brings,
harvested heat and hosts emptied, is worth ``lambda`` watts.
"""

import dataclasses
import time

import numpy as np
from scipy import optimize
from scipy import sparse

from heatwatcher.optimize import score as scoring


@dataclasses.dataclass
class _Model:
    """The MILP over a plan's migrations shared by the functions below.

    Columns ``m`` (``(M,)``, one per migration of the plan), then ``z``,
    ``y`` and ``u`` (``(H,)`` each); rows as in the module docstring, the
    budget last.
    """

    moved: np.ndarray
    destinations: np.ndarray
    need: np.ndarray
    can_reach: np.ndarray
    m_column: np.ndarray
    z_column: np.ndarray
    y_column: np.ndarray
    u_column: np.ndarray
    n_columns: int
    weight_active: np.ndarray
    matrix: sparse.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower_bounds: np.ndarray
    upper_bounds: np.ndarray
    integrality: np.ndarray

    def solve(self, objective, time_limit, node_limit, extra_row=None,
              extra_lower=-np.inf):
        """The solution vector, or None; ``extra_row`` ``>= extra_lower``."""
        matrix, row_lower, row_upper = (self.matrix, self.row_lower,
                                        self.row_upper)
        if extra_row is not None:
            matrix = sparse.vstack([matrix, sparse.csr_array(extra_row)]
                                   ).tocsr()
            row_lower = np.append(row_lower, extra_lower)
            row_upper = np.append(row_upper, np.inf)
        return _solve(objective, self.integrality, self.lower_bounds,
                      self.upper_bounds, matrix, row_lower, row_upper,
                      time_limit, node_limit)

    def plan(self, problem, solution):
        """The current placement with the migrations ``solution`` makes."""
        return _plan(problem, self.moved, self.destinations,
                     solution[self.m_column])

    def heat_objective(self, problem, load_cap):
        """Minus the secant heat of the hosts at target, per column (W)."""
        return _heat_objective(problem, self.need, self.can_reach, load_cap,
                               self.z_column, self.u_column, self.n_columns)


def _subset_model(problem, target, budget, capacity, load_cap):
    """The :class:`_Model` of ``target``'s migrations (at least one)."""
    moved = np.flatnonzero(target != problem.current)
    n_moved, n_hosts = len(moved), problem.n_hosts
    homes, destinations = problem.current[moved], target[moved]
    home_used, home_load, home_count = problem.host_usage(problem.current)
    need = problem.need
    can_reach = problem.loop & np.isfinite(need)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=n_hosts) > 0
    m_column = np.arange(n_moved)
    z_column = n_moved + np.arange(n_hosts)
    y_column = n_moved + n_hosts + np.arange(n_hosts)
    u_column = n_moved + 2 * n_hosts + np.arange(n_hosts)
    n_columns = n_moved + 3 * n_hosts
    hosts = np.arange(n_hosts)
    blocks, lower, upper = [], [], []

    def host_rows(per_instance, extra_columns=(), extra_values=(),
                  row_lower=-np.inf, row_upper=np.inf):
        """Rows ``change[h] + extra >= / <= bounds`` for every host."""
        rows = np.concatenate([destinations, homes,
                               *[hosts for _ in extra_columns]])
        columns = np.concatenate([m_column, m_column, *extra_columns])
        values = np.concatenate([per_instance, -per_instance,
                                 *extra_values])
        blocks.append(sparse.csr_array((values, (rows, columns)),
                                       shape=(n_hosts, n_columns)))
        lower.append(np.broadcast_to(row_lower, (n_hosts,)))
        upper.append(np.broadcast_to(row_upper, (n_hosts,)))

    for resource in range(3):
        host_rows(problem.demand[moved, resource],
                  row_upper=capacity[:, resource] - home_used[:, resource])
    loads = problem.load[moved]
    host_rows(loads, row_upper=load_cap - home_load)
    # load[h] - need z[h] >= 0
    host_rows(loads, [z_column], [-np.where(can_reach, need, 0.0)],
              row_lower=-home_load - scoring.EPS)
    ones = np.ones(n_moved)
    # count[h] - z[h] >= 0 where unpinned
    host_rows(ones, [z_column], [-(~pinned).astype(float)],
              row_lower=-home_count.astype(float))
    # count[h] - big y[h] <= 0
    incoming = np.bincount(destinations, minlength=n_hosts)
    host_rows(ones, [y_column], [-(home_count + incoming).astype(float)],
              row_upper=-home_count.astype(float))
    # u[h] - load[h] <= 0, then u[h] - lcap[h] z[h] <= 0
    host_rows(-loads, [u_column], [np.ones(n_hosts)], row_upper=home_load)
    blocks.append(sparse.csr_array(
        (np.concatenate([np.ones(n_hosts), -load_cap]),
         (np.concatenate([hosts, hosts]),
          np.concatenate([u_column, z_column]))),
        shape=(n_hosts, n_columns)))
    lower.append(np.full(n_hosts, -np.inf))
    upper.append(np.zeros(n_hosts))
    blocks.append(sparse.csr_array(
        (ones, (np.zeros(n_moved, dtype=int), m_column)),
        shape=(1, n_columns)))
    lower.append([-np.inf])
    upper.append([float(budget)])
    weight_active = np.where(problem.loop, n_hosts + 1.0, n_hosts + 2.0)
    lower_bounds = np.zeros(n_columns)
    lower_bounds[y_column] = pinned
    upper_bounds = np.ones(n_columns)
    upper_bounds[z_column] = can_reach
    upper_bounds[u_column] = load_cap
    integrality = np.ones(n_columns)
    integrality[u_column] = 0
    return _Model(
        moved, destinations, need, can_reach, m_column, z_column, y_column,
        u_column, n_columns, weight_active,
        sparse.vstack(blocks).tocsr(), np.concatenate(lower),
        np.concatenate(upper), lower_bounds, upper_bounds, integrality)


def best_subset(problem, target, budget, capacity, load_cap, time_limit,
                node_limit=2000, harvested=False):
    """Choose at most ``budget`` of ``target``'s migrations.

    :param problem: validated :class:`~.problem.Problem`.
    :param target: ``(N,)`` placement whose migrations may be made.
    :param budget: most migrations (int >= 0).
    :param capacity: ``(H, 3)``; :param load_cap: ``(H,)`` capacity to
        respect.
    :param time_limit: seconds (a cap; shared by the two MILPs).
    :param harvested: then maximise harvested heat at as many hosts at
        target (a second MILP).
    :returns: ``(N,)`` placement, or None when the MILP found none.
    """
    if not (target != problem.current).any():
        return problem.current.copy()
    model = _subset_model(problem, target, budget, capacity, load_cap)
    n_hosts, n_moved = problem.n_hosts, len(model.moved)
    objective = np.zeros(model.n_columns)
    objective[model.z_column] = -(n_hosts * (n_hosts + 2.0) + 1.0)
    objective[model.y_column] = model.weight_active
    cost = problem.cost[model.moved]
    objective[model.m_column] = (1.0 + cost / (cost.sum() + 1.0)) / (
        2.0 * n_moved + 1.0)
    started = time.monotonic()
    result = model.solve(objective,
                         time_limit / (2.0 if harvested else 1.0),
                         node_limit)
    if result is None:
        return None
    plan = model.plan(problem, result)
    if harvested:
        time_left = time_limit - (time.monotonic() - started)
        reached = float(np.round(result[model.z_column].sum()))
        heat = model.heat_objective(problem, load_cap)
        # Active hosts, then migrations, break ties: under 1 W in all.
        heat[model.y_column] = model.weight_active / (
            2.0 * (n_hosts + 2.0) ** 2)
        heat[model.m_column] = 0.5 / (n_hosts + 2.0) / (n_moved + 1.0)
        at_target = np.zeros((1, model.n_columns))
        at_target[0, model.z_column] = 1.0
        second = model.solve(heat, time_left, node_limit, at_target, reached)
        if second is not None:
            plan = model.plan(problem, second)
    if not scoring.is_feasible(problem, plan, capacity, load_cap):
        return None
    return plan


def worth_making(problem, target, heat_per_migration, capacity, load_cap,
                 time_limit, node_limit=2000):
    """The subset of ``target``'s migrations that pays for itself.

    Maximises what the placement is worth, in W: the harvested heat rate
    of the loop hosts at target (on the secant of their curves, as
    above), plus the idle power (``curve[:, 0]``) of every host it
    empties, which is switched off, less ``heat_per_migration`` for each
    migration made. Staying put is always a candidate, so the subset is
    never worth less than the current placement by this measure.

    :param heat_per_migration: W each migration must bring (> 0).
    :returns: ``(N,)`` placement (the current one when no migration is
        worth its cost), or None when the MILP found none.
    """
    if not (target != problem.current).any():
        return problem.current.copy()
    model = _subset_model(problem, target, len(target), capacity, load_cap)
    objective = model.heat_objective(problem, load_cap)
    objective[model.y_column] = problem.curve[:, 0]
    objective[model.m_column] = float(heat_per_migration)
    result = model.solve(objective, time_limit, node_limit)
    if result is None:
        return None
    plan = model.plan(problem, result)
    if not scoring.is_feasible(problem, plan, capacity, load_cap):
        return None
    return plan


def _heat_objective(problem, need, can_reach, load_cap, z_column, u_column,
                    n_columns):
    """Minus the secant heat of the hosts at target, per column (W)."""
    reachable_need = np.where(can_reach, need, 0.0)
    top = problem.heat_at(load_cap)
    span = load_cap - reachable_need
    slope = np.where(can_reach & (span > 1e-9),
                     (top - problem.target) / np.maximum(span, 1e-9), 0.0)
    objective = np.zeros(n_columns)
    objective[z_column] = -np.where(
        can_reach, problem.target - slope * reachable_need, 0.0)
    objective[u_column] = -slope
    return objective


def _solve(objective, integrality, lower_bounds, upper_bounds, matrix,
           row_lower, row_upper, time_limit, node_limit):
    """The MILP's solution vector, or None when it found none."""
    try:
        result = optimize.milp(
            objective, integrality=integrality,
            bounds=optimize.Bounds(lower_bounds, upper_bounds),
            constraints=optimize.LinearConstraint(matrix, row_lower,
                                                  row_upper),
            options={'time_limit': max(float(time_limit), 0.05),
                     'node_limit': int(node_limit), 'disp': False})
    except (ValueError, MemoryError):
        return None
    return result.x


def _plan(problem, moved, destinations, chosen):
    """The current placement with the chosen migrations made."""
    plan = problem.current.copy()
    chosen = np.asarray(chosen) > 0.5
    plan[moved[chosen]] = destinations[chosen]
    return plan
