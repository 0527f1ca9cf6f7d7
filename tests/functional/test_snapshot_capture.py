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
"""heatwatcher snapshot against python-watcher's emulated Nova/Placement."""

import json
import os
import tempfile

from watcher.common import clients
from watcher.tests.functional import base
from watcher.tests.functional import topology

from heatwatcher.snapshot import capture
from heatwatcher.snapshot import load
from heatwatcher.snapshot import run
from tests.functional import fixtures as hw_fixtures

TOPOLOGY = (
    topology.ComputeTopology()
    .add_computes(count=3, vcpus=16, memory=32768, disk=500, vcpu_ratio=4.0,
                  memory_mb_reserved=512)
    .add_instances(computes='all', count=1, vcpus=4, memory=4096, disk=20)
    .update_compute('compute-3', status='disabled',
                    disabled_reason='maintenance')
)


class TestSnapshotCapture(base.WatcherFunctionalTestCase):

    COMPUTE_TOPOLOGY = TOPOLOGY
    START_APPLIER = False

    def setUp(self):
        super().setUp()
        self.telemetry = self.useFixture(hw_fixtures.Telemetry())
        self.telemetry.set_instance_cpu(
            {inst.uuid: 85.0 for inst in TOPOLOGY.instances})

    def capture(self):
        conn = clients.get_sdk_connection('nova')
        return capture.capture(conn, self.telemetry.datasource, 3600,
                               now=hw_fixtures.NOW)

    def test_capture_reads_hosts_inventories_servers_and_metrics(self):
        doc = self.capture()
        hosts = {h['name']: h for h in doc['hosts']}
        self.assertEqual(['compute-1', 'compute-2', 'compute-3'],
                         sorted(hosts))
        h1 = hosts['compute-1']
        self.assertEqual((16, 32768, 500, 4.0, 512),
                         (h1['vcpus'], h1['memory_mb'], h1['disk_gb'],
                          h1['vcpu_ratio'], h1['memory_mb_reserved']))
        self.assertEqual(TOPOLOGY.compute_nodes[0].uuid, h1['uuid'])
        self.assertEqual(('disabled', 'maintenance'),
                         (hosts['compute-3']['status'],
                          hosts['compute-3']['disabled_reason']))
        insts = {i['uuid']: i for i in doc['instances']}
        for inst in TOPOLOGY.instances:
            got = insts[inst.uuid]
            self.assertEqual((inst.host, 4, 4096, 20, 'active'),
                             (got['host'], got['vcpus'], got['memory_mb'],
                              got['disk_gb'], got['state']))
        series = doc['metrics']['instance_cpu_usage'][
            TOPOLOGY.instances[0].uuid]
        self.assertEqual(12, len(series['values']))
        self.assertEqual([85.0] * 12, series['values'])

    def test_captured_snapshot_round_trips_into_a_plan(self):
        doc = self.capture()
        doc['options'] = {'heat_consolidation': {
            'loop_hosts': ['compute-1'], 'target_heat_rate': 200.0}}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'cloud.json.gz')
            load.dump(doc, path)
            loaded = load.load(path)
        self.assertEqual(json.loads(json.dumps(doc))['hosts'][0]['name'],
                         loaded['hosts'][0]['name'])
        plan = run.run(loaded)
        migrations = [a for a in plan['actions']
                      if a['action_type'] == 'migrate']
        # compute-3 is disabled: only vm-2 moves, onto the loop host
        self.assertEqual([('compute-2', 'compute-1')],
                         [(a['input_parameters']['source_node'],
                           a['input_parameters']['destination_node'])
                          for a in migrations])
        self.assertEqual(1, plan['efficacy_indicators'][
            'hosts_reaching_target_count'])
        self.assertIn('host compute-3 not considered: state up, status '
                      'disabled', plan['notes'])
