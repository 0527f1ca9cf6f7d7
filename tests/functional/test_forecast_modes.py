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
"""heat_consolidation's reactive and proactive modes through Watcher's API.

Two 16-core loop hosts with two 4-vCPU instances each. Every day the
instances idle at 10 % and are busy at 80 % from 12:00 to 14:00 UTC; the
audits run at 12:00 (the telemetry fixture's "now"). Power 100 W idle,
300 W at 16 busy cores; the 170 W target needs 5.6 busy cores: a host
reaches it at 80 % (6.4 cores) and no host does at 10 %.
"""

from watcher.tests.functional import topology

from tests.functional import test_heat_consolidation as thc

RISING = (
    topology.ComputeTopology()
    .add_computes(count=2, vcpus=16, memory=65536, disk=500)
    .add_instances(computes='all', count=2, vcpus=4, memory=8192, disk=20)
)
PARAMS = {'target_heat_rate': 170.0, 'heat_source': 'history',
          'host_power_profiles': {'*': [100, 300]}, 'solver_time_limit': 20}


class TestForecastModes(thc.HeatConsolidationTestCase):

    def setUp(self):
        super().setUp()
        self.load_topology(RISING)
        self.telemetry.set_instance_cycle(
            [inst.uuid for inst in RISING.instances])

    def audit(self, **params):
        audit = self.wait_audit_end(self.create_audit(dict(PARAMS,
                                                           **params)))
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        plan, actions = self.plan_of(audit['uuid'])
        return audit, plan, actions

    def test_proactive_keeps_hosts_for_the_daily_peak(self):
        # Measured load (10 %): no host can reach its target, so reactive
        # packs everything on one host and disables the other.
        audit, plan, actions = self.audit(mode='reactive')
        self.assertEqual(2, sum(a['action_type'] == 'migrate'
                                for a in actions))
        self.assertEqual(1, sum(a['action_type'] ==
                                'change_nova_service_state'
                                for a in actions))
        self.assertEqual(0, self.indicators(plan)[
            'hosts_reaching_target_count'])
        self.assertIn('mode reactive', audit['status_message'])
        # The forecast knows the next hour runs at 80 %: both hosts reach
        # their target where they are; packed on one host, only one would.
        audit, plan, actions = self.audit(mode='proactive')
        self.assertEqual([], actions)
        self.assertEqual(2, self.indicators(plan)[
            'hosts_reaching_target_count'])
        self.assertIn('mode proactive', audit['status_message'])

    def test_auto_goes_proactive_on_an_accurate_forecast(self):
        audit, plan, actions = self.audit()
        self.assertEqual([], actions)
        self.assertIn('mode proactive', audit['status_message'])
        audit, plan, actions = self.audit(autostart_accuracy=0.0)
        self.assertIn('mode reactive', audit['status_message'])
        self.assertEqual(2, sum(a['action_type'] == 'migrate'
                                for a in actions))
