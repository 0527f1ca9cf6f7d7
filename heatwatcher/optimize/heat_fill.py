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
"""Spend what is left of a migration budget on harvested heat.

Under ``max_migrations`` the plan is the one with the most hosts at target,
then the most harvested heat (:mod:`~.score`). Once the solve has chosen
the hosts at target, migrations left in the budget move load from hosts
below target (or off the loop) onto hosts at target, where it is heat sold
instead of heat wasted. Greedy: instances whose move is free come first
(an instance already leaving home changes destination, or goes back to a
home at target: no extra migration), then the busiest instances, each to
the host at target where it adds the most heat and fits. Hosts at target
stay at target (they only gain load), the hosts load leaves were not at
target, and active hosts can only go down, so no earlier level gets
worse.

Pure: arrays in, a placement out.
"""

import numpy as np

from heatwatcher.optimize import score as scoring


def fill(problem, assign, capacity, load_cap, budget):
    """Move load onto hosts at target with the budget ``assign`` leaves.

    :param problem: validated :class:`~.problem.Problem`.
    :param assign: ``(N,)`` placement within the budget.
    :param capacity: ``(H, 3)``; :param load_cap: ``(H,)`` to respect.
    :param budget: most migrations (int >= 0) of the whole plan.
    :returns: ``(N,)`` placement with at least ``assign``'s harvested heat
        and at most ``budget`` migrations (``assign`` itself when nothing
        fits).
    """
    plan = np.asarray(assign).copy()
    used, load, count = problem.host_usage(plan)
    reached = scoring.reached_mask(problem, load, count)
    left = int(budget) - int((plan != problem.current).sum())
    if not reached.any():
        return plan
    targets = np.flatnonzero(reached)
    candidates = np.flatnonzero(problem.movable & ~reached[plan])
    already_moved = plan[candidates] != problem.current[candidates]
    order = np.lexsort((-problem.load[candidates], ~already_moved))
    for instance in candidates[order]:
        home = problem.current[instance]
        source = plan[instance]
        extra = np.where(targets == home, 0, 1) - int(source != home)
        fits = (np.all(used[targets] + problem.demand[instance]
                       <= capacity[targets] + scoring.EPS, axis=1)
                & (load[targets] + problem.load[instance]
                   <= load_cap[targets] + scoring.EPS)
                & (extra <= left))
        if not fits.any():
            continue
        heat_now = problem.heat_at(load)[targets]
        after = load.copy()
        after[targets] += problem.load[instance]
        gain = np.where(fits, problem.heat_at(after)[targets] - heat_now,
                        -np.inf)
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            continue
        destination = targets[best]
        plan[instance] = destination
        used[source] -= problem.demand[instance]
        used[destination] += problem.demand[instance]
        load[source] -= problem.load[instance]
        load[destination] += problem.load[instance]
        left -= int(extra[best])
    return plan
