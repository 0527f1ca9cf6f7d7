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
    free = {h: np.asarray(r, dtype=float).copy() for h, r in room.items()}
    todo = sorted(instances, key=lambda i: (-i['priority'],
                                            -float(np.sum(i['demand'])),
                                            i['uuid']))
    moves, stops = [], []
    for inst in todo:
        d = np.asarray(inst['demand'], dtype=float)
        fits = [h for h in sorted(free) if np.all(d <= free[h] + EPS)]
        if not fits:
            if policy != 'stop_low_priority':
                return Evacuation([], [], False)
            if inst['state'] == 'active':
                stops.append(inst['uuid'])
            continue
        dest = min(fits, key=lambda h: (float(np.sum(free[h] - d)), h))
        free[dest] -= d
        moves.append((inst['uuid'], dest))
    room.update(free)
    return Evacuation(moves, stops, True)
