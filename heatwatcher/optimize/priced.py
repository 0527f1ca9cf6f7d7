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
"""A plan whose migrations pay for themselves (``migration_heat_cost``).

What a placement is worth against staying put, in W (:func:`worth`): the
harvested heat rate of the loop hosts at target, plus the idle power of the
hosts it empties, less that of the hosts it starts, less the price of each
migration it makes.

The plan the objective levels chose is made for hosts at target first, so
its migrations are not the cheapest way to a given heat: a host filled with
many small instances is worth less than one filled with a few busy ones.
:func:`priced_plan` therefore also solves with a migration budget of 10,
25 and 50 % of that plan's migrations (the best plans for those budgets),
keeps of each plan the subset of migrations worth the most
(:func:`~heatwatcher.optimize.budget.worth_making`), and returns the subset
worth the most of all, or staying put when none is worth anything.

Pure: arrays in, a placement out.
"""

import dataclasses

import numpy as np

from heatwatcher.optimize import budget
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from heatwatcher.optimize import solver

# Budgets tried, as fractions of the unpriced plan's migrations.
BUDGET_FRACTIONS = (0.1, 0.25, 0.5)
# Time of each solve with a budget, and of each subset MILP, as fractions
# of the audit's solver time limit (each at least a second): with the
# three budgets, at most 0.95 times that limit for limits of 20 s and more.
BUDGET_SOLVE_SHARE = 0.25
SUBSET_SHARE = 0.05


def worth(problem, assign, heat_per_migration):
    """What ``assign`` is worth against staying put (W).

    :param problem: :class:`~.problem.Problem`.
    :param assign: ``(N,)`` host index per instance.
    :param heat_per_migration: W one migration costs.
    :returns: harvested heat rate + idle power of the hosts emptied - idle
        power of the hosts started - ``heat_per_migration`` x migrations,
        each against ``problem.current`` (float, W).
    """
    _, load, count = problem.host_usage(assign)
    _, load_now, count_now = problem.host_usage(problem.current)
    idle = problem.curve[:, 0]
    return float(score.harvested_heat(problem, load, count)
                 - score.harvested_heat(problem, load_now, count_now)
                 + idle[count_now > 0].sum() - idle[count > 0].sum()
                 - heat_per_migration
                 * int((assign != problem.current).sum()))


@dataclasses.dataclass
class Priced:
    """The outcome of :func:`priced_plan`.

    :ivar assign: ``(N,)`` the placement kept (``problem.current`` when no
        migration is worth its price).
    :ivar worth: what it is worth (W, :func:`worth`).
    :ivar source: the plan its migrations come from: ``'the plan'``, or
        ``'the best plan for a budget of N'``; ``'staying put'`` when
        none.
    :ivar tried: ``{source: (migrations kept, worth)}`` for every plan
        priced (None for a plan whose subset MILP found nothing).
    """

    assign: np.ndarray
    worth: float
    source: str
    tried: dict


def priced_plan(problem, plan, heat_per_migration, options):
    """The subset of one of several plans' migrations worth the most.

    :param problem: validated :class:`~.problem.Problem`.
    :param plan: ``(N,)`` the solver's placement without a price.
    :param heat_per_migration: W one migration costs (> 0).
    :param options: :class:`~.solver.Options` of the unpriced solve: each
        solve with a budget gets :data:`BUDGET_SOLVE_SHARE` of its
        ``time_limit``, each subset MILP :data:`SUBSET_SHARE`.
    :returns: :class:`Priced`.
    """
    capacity, load_cap = placement_problem.effective_capacity(problem)
    budget_options = dataclasses.replace(
        options, time_limit=max(BUDGET_SOLVE_SHARE * options.time_limit, 1.0))
    planned = int((plan != problem.current).sum())
    candidates = [('the plan', plan)]
    for budget_moves in sorted({max(1, int(round(fraction * planned)))
                                for fraction in BUDGET_FRACTIONS}):
        if budget_moves < planned:
            result = solver.solve(problem, dataclasses.replace(
                budget_options, max_moves=budget_moves))
            candidates.append(('the best plan for a budget of %d'
                               % budget_moves, result.assign))
    best = Priced(problem.current.copy(), 0.0, 'staying put', {})
    subset_time = max(SUBSET_SHARE * options.time_limit, 1.0)
    for source, candidate in candidates:
        kept = budget.worth_making(problem, candidate, heat_per_migration,
                                   capacity, load_cap, subset_time)
        if kept is None:
            best.tried[source] = None
            continue
        value = worth(problem, kept, heat_per_migration)
        best.tried[source] = (int((kept != problem.current).sum()), value)
        if value > best.worth + 1e-6:
            best.assign, best.worth, best.source = kept, value, source
    return best
