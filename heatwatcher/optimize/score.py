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
"""The lexicographic objective of heat consolidation."""

import dataclasses

import numpy as np

# Slack for float comparisons of loads (cores) and capacities.
EPS = 1e-6


@dataclasses.dataclass(frozen=True, order=True)
class Score:
    """Objective of a placement; smaller is better (compare with ``<``).

    Levels, in priority order: loop hosts reaching target (maximised, so
    stored negated), harvested heat (W, whole watts, negated; only under
    a migration budget, 0 otherwise), active hosts, active hosts off the
    loop, migrations (instances that move), migration cost (RAM MB of the
    instances that move).

    Under a migration budget the plan is the one with the most hosts at
    target, then the most harvested heat (the heat rate of the loop hosts
    at or above their target), among plans within the budget. Harvested
    heat breaks ties between plans; it never justifies a plan alone
    (:meth:`strictly_better_than` ignores it), so a continuous audit with
    a budget does not move instances for a few watts.
    """

    neg_reached: int
    neg_harvested: float
    active: int
    active_off_loop: int
    migrations: int
    migration_cost: float

    @property
    def reached(self):
        return -self.neg_reached

    def strictly_better_than(self, other):
        """True when better on a level before the migrations.

        A placement that only moves fewer (or cheaper) instances is never
        better than staying put, so migrations alone never justify a
        plan.
        """
        return ((self.neg_reached, self.active, self.active_off_loop)
                < (other.neg_reached, other.active, other.active_off_loop))


def reached_mask(problem, load, count):
    """``(H,)`` bool: loop hosts that host instances and meet their need."""
    return problem.loop & (count > 0) & (load >= problem.need - EPS)


def harvested_heat(problem, load, count):
    """Heat rate (W) of the loop hosts at or above their target.

    :param load: ``(H,)`` cores; :param count: ``(H,)`` instances per host.
    """
    reached = reached_mask(problem, load, count)
    return float(problem.heat_at(load)[reached].sum())


def evaluate(problem, assign, harvested=False):
    """Score ``assign`` (``(N,)`` host index per instance).

    :param harvested: rank harvested heat after the hosts at target (to
        the whole watt, so that float noise does not rank plans), as
        under a migration budget; otherwise that level is 0.
    """
    _, load, count = problem.host_usage(assign)
    active = count > 0
    moved = assign != problem.current
    heat = (-float(np.round(harvested_heat(problem, load, count)))
            if harvested else 0.0)
    return Score(
        neg_reached=-int(reached_mask(problem, load, count).sum()),
        neg_harvested=heat,
        active=int(active.sum()),
        active_off_loop=int((active & ~problem.loop).sum()),
        migrations=int(moved.sum()),
        migration_cost=float(problem.cost[moved].sum()))


def is_feasible(problem, assign, capacity, load_cap):
    """True if ``assign`` keeps every host within capacity and load cap."""
    used, load, _ = problem.host_usage(assign)
    fixed_ok = np.all(assign[~problem.movable]
                      == problem.current[~problem.movable])
    return bool(fixed_ok
                and np.all(used <= capacity + EPS)
                and np.all(load <= load_cap + EPS))
