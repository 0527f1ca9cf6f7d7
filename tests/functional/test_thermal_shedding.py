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
"""thermal_event_mitigation / thermal_shedding through Watcher's API."""

from tests.functional import test_heat_consolidation as base

FOUR_HOSTS = base.FOUR_HOSTS
ZONES = {'hot': ['compute-1', 'compute-2'],
         'cool': ['compute-3', 'compute-4']}


class TestThermalShedding(base.HeatConsolidationTestCase):

    def setUp(self):
        super().setUp()
        self.flags(workflow_engine='heat_guarded', group='watcher_applier')
        self.load(FOUR_HOSTS)
        self.ironic = self.useFixture(
            base.hw_fixtures.Ironic(FOUR_HOSTS.compute_nodes))

    def audit(self, temps, **params):
        self.telemetry.set_host_metric('host_outlet_temp', temps)
        resp = self.admin_api.post('/audits', {
            'audit_type': 'ONESHOT', 'goal': 'thermal_event_mitigation',
            'strategy': 'thermal_shedding',
            'parameters': dict({'thermal_zones': ZONES,
                                'watts_per_degree': 30.0}, **params)})
        self.assertEqual(201, resp.status_code, resp.text)
        audit = self.wait_audit_end(resp.json()['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        return audit

    def test_hot_zone_sheds_its_lowest_ranked_host(self):
        audit = self.audit({'compute-1': 42.0, 'compute-2': 41.0,
                            'compute-3': 25.0, 'compute-4': 26.0},
                           protected_hosts=['compute-2'])
        self.assertIn('hot shed 42.0 degC', audit['status_message'])
        plan, actions = self.plan_of(audit['uuid'])
        vm1 = FOUR_HOSTS.instances[0]
        migrate = self._assert_action(actions, 'migrate',
                                      resource_id=vm1.uuid,
                                      source_node='compute-1',
                                      migration_type='live')
        self.assertIn(migrate['input_parameters']['destination_node'],
                      ('compute-3', 'compute-4'))
        disable = self._assert_action(
            actions, 'change_nova_service_state', resource_name='compute-1',
            state='disabled', disabled_reason='watcher_thermal_shedding')
        power = self._assert_action(actions, 'heatwatcher_node_power',
                                    resource_id='ironic-compute-1',
                                    state='off')
        self.assertEqual(3, len(actions))
        self.assertIn(migrate['uuid'], disable['parents'])
        self.assertIn(disable['uuid'], power['parents'])
        ind = self.indicators(plan)
        self.assertEqual((1, 0, 1, 0, 42.0), (
            ind['hosts_powered_down_count'], ind['hosts_powered_up_count'],
            ind['instance_migrations_count'], ind['instances_stopped_count'],
            ind['hottest_zone_temperature']))
        # (42 - 37) x 30 W/degC = 150 W; compute-1 gives 153.1 W
        self.assertAlmostEqual(150.0, ind['required_heat_reduction'])
        self.assertAlmostEqual(153.125, ind['projected_heat_reduction'])

        self.run_plan(plan['uuid'])
        placed = self.hosts_of_servers()
        self.assertEqual(migrate['input_parameters']['destination_node'],
                         placed[vm1.uuid])
        hyp = {h['hypervisor_hostname']: h for h in
               self.env.nova_fixture.nova_emulator.hypervisors.values()}
        self.assertEqual(('disabled', 'watcher_thermal_shedding'),
                         (hyp['compute-1']['status'],
                          hyp['compute-1']['service']['disabled_reason']))
        for name in ('compute-2', 'compute-3', 'compute-4'):
            self.assertEqual('enabled', hyp[name]['status'])
        self.assertEqual([('ironic-compute-1', 'off')],
                         self.ironic.client.node.power_calls)

    def test_cool_zone_brings_shed_hosts_back(self):
        emulator = self.env.nova_fixture.nova_emulator
        for h in emulator.hypervisors.values():
            if h['hypervisor_hostname'] == 'compute-1':
                h['status'] = 'disabled'
                h['service']['disabled_reason'] = 'watcher_thermal_shedding'
        for svc in emulator.services.values():
            if svc['host'] == 'compute-1':
                svc['status'] = 'disabled'
                svc['disabled_reason'] = 'watcher_thermal_shedding'
        self.ironic.client.node.nodes['ironic-compute-1'].power_state = \
            'power off'
        audit = self.audit({'compute-2': 30.0, 'compute-3': 25.0,
                            'compute-4': 25.0})
        plan, actions = self.plan_of(audit['uuid'])
        on = self._assert_action(actions, 'heatwatcher_node_power',
                                 resource_id='ironic-compute-1', state='on')
        enable = self._assert_action(actions, 'change_nova_service_state',
                                     resource_name='compute-1',
                                     state='enabled')
        self.assertIn(on['uuid'], enable['parents'])
        self.assertEqual(1, self.indicators(plan)['hosts_powered_up_count'])
        self.run_plan(plan['uuid'])
        self.assertEqual([('ironic-compute-1', 'on')],
                         self.ironic.client.node.power_calls)
        self.assertEqual('power on', self.ironic.client.node.nodes[
            'ironic-compute-1'].power_state)
        service = next(svc for svc in emulator.services.values()
                       if svc['host'] == 'compute-1')
        self.assertEqual('enabled', service['status'])
