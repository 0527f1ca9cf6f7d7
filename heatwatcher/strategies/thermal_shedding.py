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
records are read by :mod:`heatwatcher.telemetry.collect`, turned into what
shedding decides on by :mod:`heatwatcher.thermal.records`, and the
decisions are made in :mod:`heatwatcher.thermal.plan`; this module
orchestrates those steps and writes the actions.
"""

import datetime

from oslo_log import log

from heatwatcher import conf
from heatwatcher.conf import heatwatcher as heatwatcher_options
from heatwatcher.estimation import sources
from heatwatcher.strategies import heatwatcher_strategy
from heatwatcher.strategies import options
from heatwatcher.strategies import thermal_shedding_settings
from heatwatcher.telemetry import collect
from heatwatcher.thermal import plan
from heatwatcher.thermal import records

LOG = log.getLogger(__name__)


class ThermalShedding(heatwatcher_strategy.HeatwatcherStrategy):
    """Shed heat in a ranked order during thermal events."""

    DATASOURCE_METRICS = ['host_outlet_temp']
    SETTINGS = thermal_shedding_settings

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
        settings = thermal_shedding_settings.resolve(self.config,
                                                     self.input_parameters)
        cluster, temperatures, notes = self._read_telemetry(settings)
        shed = records.shed_hosts(cluster,
                                  thermal_shedding_settings.DISABLED_REASON)
        baremetal = self._baremetal_nodes(settings, cluster, temperatures,
                                          shed)
        models, _ = sources.power_models(settings.power_model,
                                         cluster.hosts, {})
        hosts, instances = records.shedding_records(
            cluster, settings, temperatures, baremetal, models, shed,
            datetime.datetime.now(datetime.timezone.utc))
        decision = plan.decide(hosts, instances, settings)
        notes += decision.notes
        self._emit(decision, instances)
        self.indicators = self._indicators(decision)
        for note in notes:
            LOG.info('thermal_shedding: %s', note)
        self.report = {
            'settings': settings.as_dict(), 'zones': decision.zones,
            'notes': notes, 'summary': self._summary(decision)}

    def _read_telemetry(self, settings):
        """Cluster records and host temperatures, with the notes."""
        names = sorted(node.hostname for node in
                       self.compute_model.get_all_compute_nodes().values())
        patterns = {'protected_hosts': settings.protected_hosts}
        for zone, zone_patterns in settings.thermal_zones.items():
            patterns['thermal_zones[%s]' % zone] = zone_patterns
        notes = options.check_patterns(patterns, settings.from_audit, names)
        cluster = collect.cluster(self.compute_model,
                                  self.datasource_backend, settings.period,
                                  settings.granularity)
        available = [host.name for host in cluster.hosts
                     if host.state == 'up' and host.status == 'enabled']
        temperatures, more = collect.host_temperatures(
            self.datasource_backend, self.compute_model, available,
            settings.temperature_metric, settings.period,
            settings.granularity)
        return cluster, temperatures, notes + cluster.notes + more

    def _baremetal_nodes(self, settings, cluster, temperatures, shed):
        """Node ids, looked up only when a host may be powered off or on."""
        hot = any(temperature is not None
                  and temperature >= settings.trigger_temperature
                  for temperature in temperatures.values())
        if not (hot or shed):
            return {}
        return collect.baremetal_nodes(
            self.metal_helper, [host.name for host in cluster.hosts])

    @staticmethod
    def _indicators(decision):
        zone_temperatures = [zone['temperature']
                             for zone in decision.zones.values()
                             if zone['temperature'] is not None]
        return {
            'hosts_powered_down_count': len(decision.shed),
            'hosts_powered_up_count': len(decision.power_up),
            'instance_migrations_count': sum(
                len(evacuation_plan.moves)
                for _, evacuation_plan in decision.shed),
            'instances_stopped_count': sum(
                len(evacuation_plan.stops)
                for _, evacuation_plan in decision.shed),
            'projected_heat_reduction': float(round(decision.reduction, 3)),
            'required_heat_reduction': float(round(decision.required, 3)),
            'hottest_zone_temperature': float(max(zone_temperatures,
                                                  default=0.0)),
        }

    @staticmethod
    def _summary(decision):
        return 'zones: %s; shed %d, powered up %d' % (
            ', '.join('%s %s %.1f degC' % (zone, outcome['action'],
                                           outcome['temperature'] or 0)
                      for zone, outcome in decision.zones.items()),
            len(decision.shed), len(decision.power_up))

    def _emit(self, decision, instances):
        """Add the decision's actions and apply them to the model."""
        model = self.compute_model
        power_action = heatwatcher_options.power_action_type(conf.CONF)
        state = {inst.uuid: inst.state for inst in instances}
        nodes = {node.hostname: node for node in
                 model.get_all_compute_nodes().values()}
        add = self.solution.add_action
        for host, evacuation_plan in decision.shed:
            for uuid, destination in evacuation_plan.moves:
                instance = model.get_instance_by_uuid(uuid)
                add(action_type='migrate', resource_id=uuid,
                    input_parameters={
                        'migration_type': 'live' if state[uuid] == 'active'
                        else 'cold', 'source_node': host.name,
                        'destination_node': destination,
                        'resource_name': instance.name})
                model.migrate_instance(instance, nodes[host.name],
                                       nodes[destination])
            for uuid in evacuation_plan.stops:
                add(action_type='stop', resource_id=uuid,
                    input_parameters={})
                model.get_instance_by_uuid(uuid).state = 'stopped'
            add(action_type='change_nova_service_state',
                resource_id=nodes[host.name].uuid,
                input_parameters={
                    'state': 'disabled',
                    'disabled_reason':
                        thermal_shedding_settings.DISABLED_REASON,
                    'resource_name': host.name})
            add(action_type=power_action, resource_id=host.node,
                input_parameters={'state': 'off',
                                  'resource_name': host.name})
            nodes[host.name].status = 'disabled'
        for host in decision.power_up:
            add(action_type=power_action, resource_id=host.node,
                input_parameters={'state': 'on', 'resource_name': host.name})
            add(action_type='change_nova_service_state',
                resource_id=nodes[host.name].uuid,
                input_parameters={'state': 'enabled',
                                  'resource_name': host.name})
            nodes[host.name].status = 'enabled'
