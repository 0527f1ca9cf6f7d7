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
"""Decide which hosts to shed and which to bring back. Pure.

Inputs are plain records (:class:`Host`, :class:`Inst`) and the resolved
settings; the output is a :class:`Decision` the strategy turns into Watcher
actions.
"""

import dataclasses

import numpy as np

from heatwatcher.thermal import evacuation
from heatwatcher.thermal import events
from heatwatcher.thermal import ranking


@dataclasses.dataclass
class Host:
    name: str
    zone: str          # None: in no zone, never touched
    active: bool       # up and enabled
    shed: bool         # disabled by this strategy
    protected: bool
    temperature: float  # degC or None
    heat: float        # W now
    idle: float        # W when on and empty
    cores: float
    room: np.ndarray   # (3,) free vCPU, MB, GB
    node: str = None   # bare metal node id


@dataclasses.dataclass
class Inst:
    uuid: str
    host: str
    demand: np.ndarray
    load: float        # cores in use
    state: str
    priority: float
    project: float
    age: float         # s
    group: str = None  # server group (metadata heatwatcher_server_group)


@dataclasses.dataclass
class Decision:
    shed: list = dataclasses.field(default_factory=list)  # (host, evac)
    power_up: list = dataclasses.field(default_factory=list)
    zones: dict = dataclasses.field(default_factory=dict)
    required: float = 0.0
    reduction: float = 0.0
    notes: list = dataclasses.field(default_factory=list)


def _factors(hosts, insts, zone_temp, t2):
    by_host = {h.name: [i for i in insts if i.host == h.name] for h in hosts}
    groups = {}
    for i in insts:
        if i.group:
            groups.setdefault(i.group, set()).add(i.host)

    def lonely(i):
        return bool(i.group) and groups[i.group] == {i.host}

    f = {name: [] for name in ranking.COST + ranking.BENEFIT}
    for h in hosts:
        mine = by_host[h.name]
        f['instances'].append(len(mine))
        f['uptime'].append(np.mean([i.age for i in mine]) if mine else 0.0)
        f['size'].append(sum(float(i.demand[0]) for i in mine))
        f['cpu'].append(sum(i.load for i in mine) / max(h.cores, 1.0))
        f['priority'].append(max([i.priority for i in mine], default=0.0))
        f['project'].append(max([i.project for i in mine], default=0.0))
        f['redundancy'].append(sum(lonely(i) for i in mine))
        f['heat'].append(h.heat)
        f['zone_heat'].append(max((zone_temp.get(h.zone) or t2) - t2, 0.0))
    return f


def decide(hosts, insts, s):
    """Shed and power-up decisions for every zone.

    :param hosts: :class:`Host` records; :param insts: :class:`Inst`.
    :param s: thermal_shedding settings.
    """
    d = Decision()
    t1, t2, t3 = (s.trigger_temperature, s.clear_temperature,
                  s.power_up_temperature)
    zones = sorted({h.zone for h in hosts if h.zone is not None})
    zone_temp = {z: events.zone_temperature(
        [h.temperature for h in hosts if h.zone == z and h.active],
        s.zone_aggregate) for z in zones}
    actions = {z: events.zone_action(
        zone_temp[z], any(h.shed for h in hosts if h.zone == z), t1, t2, t3)
        for z in zones}
    d.zones = {z: {'temperature': zone_temp[z], 'action': actions[z]}
               for z in zones}
    warm = {z for z in zones if actions[z] in (events.SHED, events.HOLD)
            or (zone_temp[z] is not None and zone_temp[z] >= t2)}
    room = {h.name: h.room.copy() for h in hosts
            if h.active and h.zone not in warm}
    shed_zones = sorted((z for z in zones if actions[z] == events.SHED),
                        key=lambda z: -zone_temp[z])
    for z in shed_zones:
        members = [h for h in hosts if h.zone == z and h.active]
        need = events.requirement(zone_temp[z], t2, s.watts_per_degree,
                                  sum(h.heat for h in members),
                                  s.heat_budget.get(z))
        d.required += need
        cands = [h for h in members if not h.protected]
        for h in members:
            if h.protected:
                d.notes.append('zone %s: %s is protected' % (z, h.name))
        for h in [h for h in cands if h.node is None]:
            d.notes.append('zone %s: %s has no bare metal node and cannot '
                           'be powered off' % (z, h.name))
        cands = [h for h in cands if h.node is not None]
        if not cands:
            d.notes.append('zone %s at %.1f degC needs %.0f W shed but no '
                           'host can be shed' % (z, zone_temp[z], need))
            continue
        f = _factors(cands, insts, zone_temp, t2)
        done = 0.0
        for name in ranking.order([h.name for h in cands], f, s.weights):
            if done >= need:
                break
            h = next(c for c in cands if c.name == name)
            ev = evacuation.evacuate(
                [{'uuid': i.uuid, 'demand': i.demand, 'priority': i.priority,
                  'state': i.state} for i in insts if i.host == name
                 and i.state in ('active', 'stopped')]
                + [{'uuid': i.uuid, 'demand': np.full(3, np.inf),
                    'priority': i.priority, 'state': i.state}
                   for i in insts if i.host == name
                   and i.state not in ('active', 'stopped')],
                room, s.evacuation_policy)
            if not ev.ok:
                d.notes.append('zone %s: %s not shed, its instances do not '
                               'fit outside the hot zones (evacuation_policy'
                               ' skip_host)' % (z, name))
                continue
            d.shed.append((h, ev))
            done += h.heat
        d.reduction += done
        if done < need:
            d.notes.append('zone %s: projected reduction %.0f W is short of '
                           'the %.0f W required' % (z, done, need))
    for z in zones:
        if actions[z] != events.POWER_UP:
            continue
        shed = [h for h in hosts if h.zone == z and h.shed]
        f = _factors(shed, insts, zone_temp, t2)
        back = list(reversed(ranking.order([h.name for h in shed], f,
                                           s.weights)))
        by_name = {h.name: h for h in shed}
        n = events.power_up_count(zone_temp[z], t3, s.watts_per_degree,
                                  [by_name[b].idle for b in back],
                                  s.max_power_up_per_run)
        d.power_up += [by_name[b] for b in back[:n]]
    return d
