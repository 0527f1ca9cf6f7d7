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
"""The thermal_shedding strategy class: records in, Watcher actions out."""

import datetime
import types

from watcher.common import utils
from watcher.decision_engine.model import element
from watcher.decision_engine.model import model_root

from heatwatcher.strategies import thermal_shedding
from heatwatcher.strategies import thermal_shedding_settings
from heatwatcher.telemetry import series as telemetry_series
from tests.unit.strategies import test_heat_consolidation as strategy_tests

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc)
SHED_REASON = thermal_shedding_settings.DISABLED_REASON


class FakeMetalHelper:
    """Watcher's metal helper interface, over ``{hostname: node id}``."""

    def __init__(self, nodes):
        self.nodes = nodes

    def list_compute_nodes(self):
        return [self._node(name, node_id)
                for name, node_id in self.nodes.items()]

    @staticmethod
    def _node(name, node_id):
        hypervisor = types.SimpleNamespace(hypervisor_hostname=name,
                                           service_host=name)
        return types.SimpleNamespace(get_id=lambda: node_id,
                                     get_hypervisor_node=lambda: hypervisor)


def cluster_model(hosts):
    """``hosts``: (name, status, disabled reason, [instance uuids])."""
    model = model_root.ModelRoot()
    for position, (name, status, reason, uuids) in enumerate(hosts):
        node = element.ComputeNode(
            uuid='node-%d' % position, hostname=name, vcpus=16,
            vcpu_reserved=0, vcpu_ratio=1.0, memory=65536,
            memory_mb_reserved=0, memory_ratio=1.0, disk=1000,
            disk_gb_reserved=0, disk_ratio=1.0, state='up', status=status,
            disabled_reason=reason)
        model.add_node(node)
        for uuid in uuids:
            instance = element.Instance(
                uuid=uuid, name='vm-' + uuid, state='active', vcpus=2,
                memory=2048, disk=20, metadata={}, locked=False,
                project_id='aaaaaaaa-1111-2222-3333-444444444444')
            model.add_instance(instance)
            model.map_instance(instance, node)
    return model


def temperatures(per_host, cpu_uuids=()):
    """Datasource with an outlet temperature per host and 50 % CPU."""
    start = NOW - datetime.timedelta(hours=1)
    return telemetry_series.SeriesDataSource({
        'host_outlet_temp': {
            name: telemetry_series.Series(start, 300, [degrees] * 12)
            for name, degrees in per_host.items()},
        'instance_cpu_usage': {
            uuid: telemetry_series.Series(start, 300, [50] * 12)
            for uuid in cpu_uuids}}, now=NOW)


class TestThermalSheddingStrategy(strategy_tests.TestCase):

    def run_strategy(self, model, datasource, nodes, **params):
        values = {option.dest: option.default for option in
                  thermal_shedding_settings.config_opts()}
        values['datasources'] = None
        strategy = thermal_shedding.ThermalShedding(
            config=utils.Struct(values))
        strategy._compute_model = model
        strategy._datasource_backend = datasource
        strategy._metal_helper = FakeMetalHelper(nodes)
        zones = {zone: ['%s-*' % zone] for zone in ('hot', 'cool')
                 if any(node.hostname.startswith(zone) for node in
                        model.get_all_compute_nodes().values())}
        strategy.input_parameters = utils.Struct(dict(
            {'thermal_zones': zones}, **params))
        solution = strategy.execute()
        indicators = {indicator.name: indicator.value
                      for indicator in solution.efficacy_indicators}
        return strategy, solution.actions, indicators

    def test_hot_zone_sheds_its_lowest_ranked_host(self):
        model = cluster_model([
            ('cool-1', 'enabled', None, []),
            ('hot-1', 'enabled', None, ['a1', 'a2']),
            ('hot-2', 'enabled', None, ['b1'])])
        datasource = temperatures({'cool-1': 25.0, 'hot-1': 41.0,
                                   'hot-2': 41.0}, ['a1', 'a2', 'b1'])
        strategy, actions, indicators = self.run_strategy(
            model, datasource, {'hot-1': 'bm-hot-1', 'hot-2': 'bm-hot-2',
                                'cool-1': 'bm-cool-1'},
            watts_per_degree=25.0)
        self.assertEqual(1, indicators['hosts_powered_down_count'])
        shed = [action for action in actions
                if action['action_type'] == 'heatwatcher_node_power']
        self.assertEqual(1, len(shed))
        victim = shed[0]['input_parameters']['resource_name']
        self.assertEqual('bm-%s' % victim,
                         shed[0]['input_parameters']['resource_id'])
        self.assertEqual('off', shed[0]['input_parameters']['state'])
        migrations = [action for action in actions
                      if action['action_type'] == 'migrate']
        self.assertEqual(len(model.get_node_instances(
            model.get_node_by_name('cool-1'))), len(migrations))
        self.assertTrue(migrations)
        for action in migrations:
            self.assertEqual(victim,
                             action['input_parameters']['source_node'])
            self.assertEqual('cool-1',
                             action['input_parameters']['destination_node'])
        disabled = model.get_node_by_name(victim)
        self.assertEqual('disabled', disabled.status)
        self.assertEqual(41.0, indicators['hottest_zone_temperature'])
        self.assertIn('hot shed 41.0 degC', strategy.report['summary'])

    def test_power_up_skips_a_host_without_bare_metal_node_with_a_note(self):
        model = cluster_model([
            ('cool-1', 'enabled', None, []),
            ('cool-2', 'disabled', SHED_REASON, []),
            ('cool-3', 'disabled', SHED_REASON, [])])
        datasource = temperatures({'cool-1': 30.0})
        strategy, actions, indicators = self.run_strategy(
            model, datasource, {'cool-1': 'bm-cool-1', 'cool-3': 'bm-cool-3'},
            max_power_up_per_run=2)
        self.assertEqual(1, indicators['hosts_powered_up_count'])
        self.assertEqual(
            [('heatwatcher_node_power', 'bm-cool-3', 'on'),
             ('change_nova_service_state', 'node-2', 'enabled')],
            [(action['action_type'],
              action['input_parameters']['resource_id'],
              action['input_parameters']['state']) for action in actions])
        self.assertIn('zone cool: cool-2 has no bare metal node and cannot '
                      'be powered on', strategy.report['notes'])
        self.assertEqual('enabled', model.get_node_by_name('cool-3').status)
        self.assertEqual('disabled', model.get_node_by_name('cool-2').status)

    def test_no_event_no_action_and_no_bare_metal_lookup(self):
        model = cluster_model([('cool-1', 'enabled', None, ['c1'])])
        strategy, actions, indicators = self.run_strategy(
            model, temperatures({'cool-1': 30.0}, ['c1']), {})
        self.assertEqual([], actions)
        self.assertEqual(0, indicators['hosts_powered_down_count'])
        self.assertEqual({'cool': {'temperature': 30.0, 'action': 'none'}},
                         strategy.report['zones'])
