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
"""Evacuate a host's instances to hosts outside the hot zones.

Most important instances first (``heatwatcher_priority``), then largest;
each goes to the destination with the least room that still fits it (best
fit, so big holes stay for big instances). When an instance fits nowhere:

* ``skip_host``: the host is not shed (nothing is planned for it);
* ``stop_low_priority``: an instance that fits nowhere once the more
  important ones are placed is stopped (Watcher ``stop``).
"""

import dataclasses

import numpy as np

EPS = 1e-6


@dataclasses.dataclass
class Evacuation:
    """A planned evacuation.

    :ivar moves: ``[(instance uuid, destination hostname)]``.
    :ivar stops: instance uuids to stop.
    :ivar ok: False when the policy refused the host.
    """

    moves: list
    stops: list
    ok: bool


def evacuate(instances, room, policy):
    """Plan the evacuation of ``instances``.

    :param instances: dicts with ``uuid``, ``demand`` ``(3,)`` (vCPU, MB,
        GB), ``priority`` (higher is more important) and ``state``.
    :param room: ``{hostname: (3,) free capacity}``; updated in place only
        when the evacuation is accepted.
    :param policy: ``skip_host`` or ``stop_low_priority``.
    :returns: :class:`Evacuation`
    """
    free = {host: np.asarray(host_room, dtype=float).copy()
            for host, host_room in room.items()}
    todo = sorted(instances,
                  key=lambda instance: (-instance['priority'],
                                        -float(np.sum(instance['demand'])),
                                        instance['uuid']))
    moves, stops = [], []
    for instance in todo:
        demand = np.asarray(instance['demand'], dtype=float)
        fitting_hosts = [host for host in sorted(free)
                         if np.all(demand <= free[host] + EPS)]
        if not fitting_hosts:
            if policy != 'stop_low_priority':
                return Evacuation([], [], False)
            if instance['state'] == 'active':
                stops.append(instance['uuid'])
            continue
        # best fit: the least room left after the move
        destination = min(fitting_hosts,
                          key=lambda host: (float(np.sum(free[host] - demand)),
                                            host))
        free[destination] -= demand
        moves.append((instance['uuid'], destination))
    room.update(free)
    return Evacuation(moves, stops, True)
