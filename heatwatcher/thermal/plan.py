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


def _factors(hosts, insts, zone_temp, clear_temperature):
    """``{factor name: [value per host]}`` of :mod:`.ranking`."""
    by_host = {host.name: [inst for inst in insts if inst.host == host.name]
               for host in hosts}
    group_hosts = {}
    for inst in insts:
        if inst.group:
            group_hosts.setdefault(inst.group, set()).add(inst.host)

    def lonely(inst):
        # all of its server group's instances are on this one host
        return bool(inst.group) and group_hosts[inst.group] == {inst.host}

    factors = {name: [] for name in ranking.COST + ranking.BENEFIT}
    for host in hosts:
        mine = by_host[host.name]
        factors['instances'].append(len(mine))
        factors['uptime'].append(np.mean([inst.age for inst in mine])
                                 if mine else 0.0)
        factors['size'].append(sum(float(inst.demand[0]) for inst in mine))
        factors['cpu'].append(sum(inst.load for inst in mine)
                              / max(host.cores, 1.0))
        factors['priority'].append(max([inst.priority for inst in mine],
                                       default=0.0))
        factors['project'].append(max([inst.project for inst in mine],
                                      default=0.0))
        factors['redundancy'].append(sum(lonely(inst) for inst in mine))
        factors['heat'].append(host.heat)
        factors['zone_heat'].append(max(
            (zone_temp.get(host.zone) or clear_temperature)
            - clear_temperature, 0.0))
    return factors


def _evacuation_input(insts, hostname):
    """Instances of ``hostname`` as :func:`evacuation.evacuate` takes them.

    Only active and stopped instances can move; any other state gets an
    infinite demand, so it fits nowhere and the policy decides.
    """
    movable = [{'uuid': inst.uuid, 'demand': inst.demand,
                'priority': inst.priority, 'state': inst.state}
               for inst in insts if inst.host == hostname
               and inst.state in ('active', 'stopped')]
    stuck = [{'uuid': inst.uuid, 'demand': np.full(3, np.inf),
              'priority': inst.priority, 'state': inst.state}
             for inst in insts if inst.host == hostname
             and inst.state not in ('active', 'stopped')]
    return movable + stuck


def _shed_zone(decision, zone, zone_temp, hosts, insts, room, settings):
    """Shed the lowest-ranked hosts of a hot ``zone`` until enough is shed."""
    members = [host for host in hosts if host.zone == zone and host.active]
    need = events.requirement(zone_temp[zone], settings.clear_temperature,
                              settings.watts_per_degree,
                              sum(host.heat for host in members),
                              settings.heat_budget.get(zone))
    decision.required += need
    candidates = [host for host in members if not host.protected]
    for host in members:
        if host.protected:
            decision.notes.append('zone %s: %s is protected'
                                  % (zone, host.name))
    for host in candidates:
        if host.node is None:
            decision.notes.append('zone %s: %s has no bare metal node and '
                                  'cannot be powered off'
                                  % (zone, host.name))
    candidates = [host for host in candidates if host.node is not None]
    if not candidates:
        decision.notes.append('zone %s at %.1f degC needs %.0f W shed but '
                              'no host can be shed'
                              % (zone, zone_temp[zone], need))
        return
    factors = _factors(candidates, insts, zone_temp,
                       settings.clear_temperature)
    by_name = {host.name: host for host in candidates}
    shed_watts = 0.0
    for name in ranking.order([host.name for host in candidates], factors,
                              settings.weights):
        if shed_watts >= need:
            break
        evacuation_plan = evacuation.evacuate(
            _evacuation_input(insts, name), room,
            settings.evacuation_policy)
        if not evacuation_plan.ok:
            decision.notes.append(
                'zone %s: %s not shed, its instances do not fit outside '
                'the hot zones (evacuation_policy skip_host)' % (zone, name))
            continue
        decision.shed.append((by_name[name], evacuation_plan))
        shed_watts += by_name[name].heat
    decision.reduction += shed_watts
    if shed_watts < need:
        decision.notes.append('zone %s: projected reduction %.0f W is short '
                              'of the %.0f W required'
                              % (zone, shed_watts, need))


def _power_up_zone(decision, zone, zone_temp, hosts, insts, settings):
    """Bring back the hosts of a cool ``zone``, in reverse shedding rank."""
    shed = [host for host in hosts if host.zone == zone and host.shed]
    for host in shed:
        if host.node is None:
            decision.notes.append('zone %s: %s has no bare metal node and '
                                  'cannot be powered on' % (zone, host.name))
    shed = [host for host in shed if host.node is not None]
    factors = _factors(shed, insts, zone_temp, settings.clear_temperature)
    back = list(reversed(ranking.order([host.name for host in shed],
                                       factors, settings.weights)))
    by_name = {host.name: host for host in shed}
    count = events.power_up_count(zone_temp[zone],
                                  settings.power_up_temperature,
                                  settings.watts_per_degree,
                                  [by_name[name].idle for name in back],
                                  settings.max_power_up_per_run)
    decision.power_up += [by_name[name] for name in back[:count]]


def decide(hosts, insts, settings):
    """Shed and power-up decisions for every zone.

    :param hosts: :class:`Host` records; :param insts: :class:`Inst`.
    :param settings: resolved thermal_shedding settings.
    :returns: :class:`Decision`; hosts without a bare metal node are
        neither shed nor powered up, each with a note.
    """
    decision = Decision()
    trigger, clear, power_up = (settings.trigger_temperature,
                                settings.clear_temperature,
                                settings.power_up_temperature)
    zones = sorted({host.zone for host in hosts if host.zone is not None})
    zone_temp = {zone: events.zone_temperature(
        [host.temperature for host in hosts
         if host.zone == zone and host.active], settings.zone_aggregate)
        for zone in zones}
    zone_actions = {zone: events.zone_action(
        zone_temp[zone], any(host.shed for host in hosts
                             if host.zone == zone),
        trigger, clear, power_up) for zone in zones}
    decision.zones = {zone: {'temperature': zone_temp[zone],
                             'action': zone_actions[zone]}
                      for zone in zones}
    warm = {zone for zone in zones
            if zone_actions[zone] in (events.SHED, events.HOLD)
            or (zone_temp[zone] is not None and zone_temp[zone] >= clear)}
    room = {host.name: host.room.copy() for host in hosts
            if host.active and host.zone not in warm}
    shed_zones = sorted((zone for zone in zones
                         if zone_actions[zone] == events.SHED),
                        key=lambda zone: -zone_temp[zone])
    for zone in shed_zones:
        _shed_zone(decision, zone, zone_temp, hosts, insts, room, settings)
    for zone in zones:
        if zone_actions[zone] == events.POWER_UP:
            _power_up_zone(decision, zone, zone_temp, hosts, insts,
                           settings)
    return decision
