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
"""*Thermal Shedding*: ranked power-down with hysteresis, ranked power-up.

Meant to run as a CONTINUOUS audit: each run re-reads the temperatures, so
the loop closes without hidden state (hosts shed by this strategy carry the
disabled reason ``watcher_thermal_shedding``). Per zone (see
:mod:`heatwatcher.thermal.events`): at or above T1 the lowest-ranked hosts
(:mod:`heatwatcher.thermal.ranking`) are evacuated to hosts outside the hot
zones, disabled and powered off until the projected reduction covers the
requirement; below T3 shed hosts come back in reverse rank order. The
decisions are made in :mod:`heatwatcher.thermal.plan`; this module reads
Watcher's model and datasource and writes the actions.
"""

import datetime
import types

import numpy as np
from oslo_log import log

from heatwatcher.estimation import sources
from heatwatcher.strategies import base
from heatwatcher.strategies import settings_base
from heatwatcher.strategies import thermal_shedding_settings as settings
from heatwatcher.telemetry import collect
from heatwatcher.thermal import plan as plan_mod

LOG = log.getLogger(__name__)


class ThermalShedding(base.HeatwatcherStrategy):
    """Shed heat in a ranked order during thermal events."""

    DATASOURCE_METRICS = ['host_outlet_temp']
    SETTINGS = settings

    @classmethod
    def get_name(cls):
        return 'thermal_shedding'

    @classmethod
    def get_display_name(cls):
        return 'Thermal Shedding'

    @classmethod
    def get_translatable_display_name(cls):
        return 'Thermal Shedding'

    @classmethod
    def get_goal_name(cls):
        return 'thermal_event_mitigation'

    def _run(self):
        s = settings.resolve(self.config, self.input_parameters)
        model = self.compute_model
        nodes = sorted(model.get_all_compute_nodes().values(),
                       key=lambda n: n.hostname)
        names = [n.hostname for n in nodes]
        notes = self._check_patterns(s, names)
        zone_of = {n: self._zone(s, n) for n in names}
        snap = collect.collect(model, self.datasource_backend, s.period,
                               s.granularity)
        temps, more = collect.host_temperatures(
            self.datasource_backend, [n for n in nodes if n.hostname in
                                      {h.name for h in snap.hosts}],
            s.temperature_metric, s.period, s.granularity)
        notes += snap.notes + more
        hosts, insts = self._records(s, model, nodes, snap, temps, zone_of)
        decision = plan_mod.decide(hosts, insts, s)
        notes += decision.notes
        self._emit(model, decision, insts)
        zone_temps = [z['temperature'] for z in decision.zones.values()
                      if z['temperature'] is not None]
        self.indicators = {
            'hosts_powered_down_count': len(decision.shed),
            'hosts_powered_up_count': len(decision.power_up),
            'instance_migrations_count': sum(len(ev.moves)
                                             for _, ev in decision.shed),
            'instances_stopped_count': sum(len(ev.stops)
                                           for _, ev in decision.shed),
            'projected_heat_reduction': float(round(decision.reduction, 3)),
            'required_heat_reduction': float(round(decision.required, 3)),
            'hottest_zone_temperature': float(max(zone_temps, default=0.0)),
        }
        for note in notes:
            LOG.info('thermal_shedding: %s', note)
        self.report = {
            'settings': s.as_dict(), 'zones': decision.zones, 'notes': notes,
            'summary': 'zones: %s; shed %d, powered up %d' % (
                ', '.join('%s %s %.1f degC' % (z, v['action'],
                                               v['temperature'] or 0)
                          for z, v in decision.zones.items()),
                len(decision.shed), len(decision.power_up))}

    def _check_patterns(self, s, names):
        patterns = {'protected_hosts': s.protected_hosts}
        for zone, pats in s.thermal_zones.items():
            patterns['thermal_zones[%s]' % zone] = pats
        return settings_base.check_patterns(patterns, s.from_audit, names)

    @staticmethod
    def _zone(s, name):
        if not s.thermal_zones:
            return 'all'
        for zone in sorted(s.thermal_zones):
            if settings_base.match(dict.fromkeys(s.thermal_zones[zone]),
                                   name):
                return zone
        return None

    def _records(self, s, model, nodes, snap, temps, zone_of):
        host_recs = [collect.host_record(n) for n in nodes]
        conf = types.SimpleNamespace(
            heat_source='history', host_power_profiles=s.host_power_profiles,
            default_idle_power=s.default_idle_power,
            default_max_power=s.default_max_power,
            granularity=s.granularity)
        models, _ = sources.power_models(conf, host_recs, {},
                                         settings_base.match)
        cpu = {i.uuid: i.cpu_percent for i in snap.instances}
        now = datetime.datetime.now(datetime.timezone.utc)
        insts = []
        load, used = np.zeros(len(nodes)), np.zeros((len(nodes), 3))
        for k, n in enumerate(nodes):
            for i in model.get_node_instances(n):
                pct = cpu.get(i.uuid)
                ld = i.vcpus * (100.0 if pct is None else pct) / 100.0
                load[k] += ld
                used[k] += (i.vcpus, i.memory, i.disk)
                # versioned objects raise, not return None, for unset fields
                created = (i.created if i.obj_attr_is_set('created')
                           else None)
                md = i.metadata or {}
                insts.append(plan_mod.Inst(
                    uuid=i.uuid, host=n.hostname,
                    demand=np.array([i.vcpus, i.memory, i.disk], float),
                    load=ld, state=i.state,
                    priority=_number(md.get('heatwatcher_priority')),
                    project=s.project_priorities.get(str(i.project_id), 0.0),
                    age=_age(now, created),
                    group=md.get('heatwatcher_server_group')))
        shed = {n.hostname for n in nodes if n.status == 'disabled'
                and n.disabled_reason == settings.DISABLED_REASON}
        needs_node = any(t is not None and t >= s.trigger_temperature
                         for t in temps.values()) or shed
        metal = collect.baremetal_nodes(self.metal_helper, [
            n.hostname for n in nodes]) if needs_node else {}
        heat = models.heat_rate(load)
        hosts = []
        for k, n in enumerate(nodes):
            cap = np.array([n.vcpu_capacity, n.memory_mb_capacity,
                            n.disk_gb_capacity], float)
            hosts.append(plan_mod.Host(
                name=n.hostname, zone=zone_of[n.hostname],
                active=n.state == 'up' and n.status == 'enabled',
                shed=n.hostname in shed,
                protected=settings_base.match(
                    dict.fromkeys(s.protected_hosts), n.hostname) is not None,
                temperature=temps.get(n.hostname),
                heat=float(heat[k]),
                idle=float(models.curves[k, 0]), cores=float(n.vcpus),
                room=np.maximum(cap - used[k], 0.0),
                node=metal.get(n.hostname)))
        return hosts, insts

    def _emit(self, model, d, insts):
        state = {i.uuid: i.state for i in insts}
        nodes = {n.hostname: n for n in
                 model.get_all_compute_nodes().values()}
        add = self.solution.add_action
        for h, ev in d.shed:
            for uuid, dest in ev.moves:
                add(action_type='migrate', resource_id=uuid,
                    input_parameters={
                        'migration_type': 'live' if state[uuid] == 'active'
                        else 'cold', 'source_node': h.name,
                        'destination_node': dest,
                        'resource_name': model.get_instance_by_uuid(
                            uuid).name})
                model.migrate_instance(model.get_instance_by_uuid(uuid),
                                       nodes[h.name], nodes[dest])
            for uuid in ev.stops:
                add(action_type='stop', resource_id=uuid,
                    input_parameters={})
                model.get_instance_by_uuid(uuid).state = 'stopped'
            add(action_type='change_nova_service_state',
                resource_id=nodes[h.name].uuid,
                input_parameters={'state': 'disabled',
                                  'disabled_reason': settings.DISABLED_REASON,
                                  'resource_name': h.name})
            add(action_type='change_node_power_state', resource_id=h.node,
                input_parameters={'state': 'off', 'resource_name': h.name})
            nodes[h.name].status = 'disabled'
        for h in d.power_up:
            if h.node is None:
                d.notes.append('%s cannot be powered on: no bare metal node'
                               % h.name)
                continue
            add(action_type='change_node_power_state', resource_id=h.node,
                input_parameters={'state': 'on', 'resource_name': h.name})
            add(action_type='change_nova_service_state',
                resource_id=nodes[h.name].uuid,
                input_parameters={'state': 'enabled',
                                  'resource_name': h.name})
            nodes[h.name].status = 'enabled'


def _age(now, created):
    """Seconds since ``created`` (naive datetimes are UTC); 0 if unknown."""
    if created is None:
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    return max((now - created).total_seconds(), 0.0)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
