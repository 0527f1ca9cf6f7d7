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
"""Failures while a heat_sequenced action plan runs in Watcher's applier."""

import fixtures

from tests.functional import test_heat_consolidation as base

FOUR_HOSTS = base.FOUR_HOSTS
PARAMS = base.PARAMS


class TestExecutionFailures(base.HeatConsolidationTestCase):

    def setUp(self):
        super().setUp()
        self.flags(workflow_engine='heat_guarded', group='watcher_applier')
        self.load(FOUR_HOSTS)
        self.ironic = self.useFixture(
            base.hw_fixtures.Ironic(FOUR_HOSTS.compute_nodes))

    def fail_migration_of(self, instance_uuid):
        """Make the emulated Nova fail live migrations of one instance."""
        self.failing = {instance_uuid} - {None}
        emulator = self.env.nova_fixture.nova_emulator
        if getattr(self, '_move_patched', False):
            return
        real = emulator._move_server

        def move(server_id, dest):
            if server_id in self.failing:
                raise RuntimeError('injected live-migration failure')
            return real(server_id, dest)
        self.useFixture(fixtures.MockPatchObject(emulator, '_move_server',
                                                 side_effect=move))
        self._move_patched = True

    def plan_for(self, params):
        audit = self.wait_audit_end(self.create_audit(params))
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        return self.plan_of(audit['uuid'])

    def service_status(self):
        return {h['hypervisor_hostname']: h['status'] for h in
                self.env.nova_fixture.nova_emulator.hypervisors.values()}

    def test_failed_migration_keeps_source_on_and_touches_no_power(self):
        vm4 = FOUR_HOSTS.instances[3]
        self.fail_migration_of(vm4.uuid)
        plan, actions = self.plan_for(dict(PARAMS,
                                           idle_host_action='power_off'))
        self.run_plan(plan['uuid'], expected='FAILED')
        placed = self.hosts_of_servers()
        self.assertEqual('compute-4', placed[vm4.uuid])
        self.assertEqual('enabled', self.service_status()['compute-4'])
        self.assertEqual([], self.ironic.client.node.power_calls)
        states = {a['uuid']: a['state'] for a in self.admin_api.get(
            '/actions?action_plan_uuid=%s' % plan['uuid']).json()['actions']}
        for a in actions:
            if a['action_type'] == 'heatwatcher_node_power':
                self.assertNotEqual('SUCCEEDED', states[a['uuid']])

        # the failure is gone: a new audit from this state converges
        self.fail_migration_of(None)
        plan, actions = self.plan_for(PARAMS)
        self.run_plan(plan['uuid'])
        placed = self.hosts_of_servers()
        self.assertEqual({'compute-1', 'compute-2'}, set(placed.values()))
        self.assertEqual(2, list(placed.values()).count('compute-1'))
        status = self.service_status()
        self.assertEqual(('disabled', 'disabled'),
                         (status['compute-3'], status['compute-4']))

    def test_power_off_refused_when_an_instance_arrived_after_planning(self):
        plan, actions = self.plan_for(dict(PARAMS,
                                           idle_host_action='power_off'))
        # Between planning and execution, someone boots a server onto a
        # host the plan empties (Nova still schedules there until the
        # disable runs).
        emulator = self.env.nova_fixture.nova_emulator
        newcomer = dict(next(iter(emulator.servers.values())),
                        id='c0ffee00-0000-4000-8000-000000000001',
                        name='late-arrival')
        newcomer['OS-EXT-SRV-ATTR:host'] = 'compute-4'
        newcomer['OS-EXT-SRV-ATTR:hypervisor_hostname'] = 'compute-4'
        emulator.servers[newcomer['id']] = newcomer
        self.run_plan(plan['uuid'], expected='FAILED')
        power_off = next(
            a for a in actions if a['action_type'] == 'heatwatcher_node_power'
            and a['input_parameters']['resource_name'] == 'compute-4')
        refused = self.get_latest('/actions/%s' % power_off['uuid'])
        self.assertEqual('FAILED', refused['state'])
        self.assertIn('compute-4', refused['status_message'])
        self.assertIn('late-arrival', refused['status_message'])
        self.assertNotIn(('ironic-compute-4', 'off'),
                         self.ironic.client.node.power_calls)
        self.assertEqual('power on', self.ironic.client.node.nodes[
            'ironic-compute-4'].power_state)

    def test_failed_power_action_leaves_the_plan_failed_and_hosts_safe(self):
        def refuse(uuid, state):
            raise RuntimeError('injected BMC failure')
        self.useFixture(fixtures.MockPatchObject(
            self.ironic.client.node, 'set_power_state',
            side_effect=refuse))
        plan, actions = self.plan_for(dict(PARAMS,
                                           idle_host_action='power_off'))
        self.run_plan(plan['uuid'], expected='FAILED')
        placed = self.hosts_of_servers()
        self.assertEqual({'compute-1', 'compute-2'}, set(placed.values()))
        status = self.service_status()
        self.assertEqual(('disabled', 'disabled'),
                         (status['compute-3'], status['compute-4']))
        nodes = self.ironic.client.node.nodes
        for host in ('compute-1', 'compute-2', 'compute-3', 'compute-4'):
            self.assertEqual('power on', nodes['ironic-%s' % host].power_state)
