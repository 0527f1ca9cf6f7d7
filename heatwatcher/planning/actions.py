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
"""Watcher actions for a chosen placement, as plain records.

Order in the solution: every migration, then for each host left empty its
``change_nova_service_state`` (disabled) and, with ``power_off``, its
power-off (``heatwatcher_node_power`` by default, or Watcher's
``change_node_power_state``). The ``heat_sequenced`` planner
(:mod:`heatwatcher.planning.sequence`) then orders them safely.
"""

import dataclasses

import numpy as np

from heatwatcher import exception


@dataclasses.dataclass
class Action:
    action_type: str
    resource_id: str
    input_parameters: dict


def emptied_hosts(problem, assign):
    """``(H,)`` bool: hosts holding no instance under ``assign``."""
    return np.bincount(assign, minlength=problem.n_hosts) == 0


def plan(snapshot, problem, assign, migration_type, idle_host_action,
         disabled_reason, baremetal=None,
         power_action_type='heatwatcher_node_power'):
    """Return the list of :class:`Action` that realise ``assign``.

    :param snapshot: the telemetry snapshot the problem was built from
        (host and instance records in problem order).
    :param migration_type: ``(N,)`` ``live``/``cold`` per instance.
    :param idle_host_action: ``disable``, ``power_off`` or ``none``.
    :param baremetal: ``{hostname: bare metal node id}`` (for power_off).
    :param power_action_type: the action type of a power-off.
    :raises: :class:`~heatwatcher.exception.BaremetalNodeNotFound` before
        returning anything, if a host to power off has no node.
    """
    hosts, instances = snapshot.hosts, snapshot.instances
    emptied = np.flatnonzero(emptied_hosts(problem, assign)) \
        if idle_host_action != 'none' else np.array([], dtype=int)
    if idle_host_action == 'power_off':
        missing = [hosts[h].name for h in emptied
                   if hosts[h].name not in (baremetal or {})]
        if missing:
            raise exception.BaremetalNodeNotFound(hosts=', '.join(missing))
    actions = []
    for i in np.flatnonzero(assign != problem.current):
        actions.append(Action('migrate', instances[i].uuid, {
            'migration_type': migration_type[i],
            'source_node': hosts[problem.current[i]].name,
            'destination_node': hosts[assign[i]].name,
            'resource_name': instances[i].name}))
    for h in emptied:
        actions.append(Action('change_nova_service_state', hosts[h].uuid, {
            'state': 'disabled', 'disabled_reason': disabled_reason,
            'resource_name': hosts[h].name}))
        if idle_host_action == 'power_off':
            actions.append(Action(
                power_action_type, baremetal[hosts[h].name],
                {'state': 'off', 'resource_name': hosts[h].name}))
    return actions
