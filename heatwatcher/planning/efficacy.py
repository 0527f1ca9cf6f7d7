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
"""Efficacy indicators of the heat_reuse goal, as plain Python numbers."""

import numpy as np

from heatwatcher.optimize import score


def host_heat(problem, assign, idle_host_action):
    """``(H,)`` heat rate (W) of each host once ``assign`` is in place.

    A host left empty draws nothing when powered off, its idle power when it
    is only disabled or left alone.
    """
    _, load, count = problem.host_usage(assign)
    heat = problem.heat_at(load)
    if idle_host_action == 'power_off':
        heat = np.where(count > 0, heat, 0.0)
    return heat


def indicators(problem, assign, idle_host_action):
    """Indicators for moving from ``problem.current`` to ``assign``.

    Every host in the problem is up and enabled before the plan, so each host
    the plan empties is released (unless ``idle_host_action`` is ``none``).
    """
    loop = problem.loop
    values = {'loop_hosts_count': int(loop.sum())}
    for tag, placement, host_action in (
            ('before', problem.current, 'none'),
            ('after', assign, idle_host_action)):
        _, load, count = problem.host_usage(placement)
        heat = host_heat(problem, placement, host_action)
        reached = score.reached_mask(problem, load, count)
        values['heat_rate_%s' % tag] = float(round(heat[loop].sum(), 3))
        values['harvested_heat_rate_%s' % tag] = float(
            round(heat[reached].sum(), 3))
        if tag == 'after':
            values['hosts_reaching_target_count'] = int(reached.sum())
            released = (count == 0) & (idle_host_action != 'none')
            values['released_compute_nodes_count'] = int(released.sum())
    values['instance_migrations_count'] = int(
        (assign != problem.current).sum())
    return values
