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

import gzip
import json
import os
import tempfile
import unittest

import yaml

from heatwatcher.snapshot import load
from tests.unit.snapshot import helpers


class TestLoad(unittest.TestCase):

    def assertBad(self, doc, *fragments):
        text = doc if isinstance(doc, str) else json.dumps(doc)
        with self.assertRaises(load.SnapshotError) as cm:
            load.parse(text, 'snap.json')
        for frag in fragments:
            self.assertIn(frag, str(cm.exception))
        self.assertNotIn('\n', str(cm.exception))
        return str(cm.exception)

    def test_valid_snapshot_gets_defaults(self):
        doc = load.parse(json.dumps(helpers.small_snapshot()))
        h = doc['hosts'][0]
        self.assertEqual((0, 1.0, 'up', 'enabled', 'compute-1'),
                         (h['vcpu_reserved'], h['vcpu_ratio'], h['state'],
                          h['status'], h['uuid']))
        self.assertEqual(('active', False), (doc['instances'][0]['state'],
                         doc['instances'][0]['watcher_exclude']))

    def test_every_required_field_missing_is_named(self):
        for field in ('version', 'captured_at', 'hosts', 'instances'):
            doc = helpers.small_snapshot()
            del doc[field]
            self.assertBad(doc, "'%s' is a required property" % field)
        for field in ('name', 'vcpus', 'memory_mb', 'disk_gb'):
            doc = helpers.small_snapshot()
            del doc['hosts'][2][field]
            self.assertBad(doc, 'hosts[2]', "'%s' is a required property"
                           % field)
        for field in ('uuid', 'name', 'host', 'vcpus', 'memory_mb',
                      'disk_gb'):
            doc = helpers.small_snapshot()
            del doc['instances'][1][field]
            self.assertBad(doc, 'instances[1]',
                           "'%s' is a required property" % field)

    def test_wrong_types_name_item_and_field(self):
        doc = helpers.small_snapshot()
        doc['hosts'][1]['vcpus'] = 'sixteen'
        self.assertBad(doc, 'hosts[1] (compute-2).vcpus', "is not of type "
                       "'integer'")
        doc = helpers.small_snapshot()
        doc['instances'][0]['state'] = 'dancing'
        self.assertBad(doc, 'instances[0] (vm-1).state')
        doc = helpers.small_snapshot()
        doc['version'] = 2
        self.assertBad(doc, 'version')

    def test_negative_capacity(self):
        doc = helpers.small_snapshot()
        doc['hosts'][3]['memory_mb'] = -1
        self.assertBad(doc, 'hosts[3] (compute-4).memory_mb',
                       'less than the minimum of 0')

    def test_unknown_host_reference(self):
        doc = helpers.small_snapshot()
        doc['instances'][2]['host'] = 'compute-9'
        self.assertBad(doc, "instances[2] (i-3).host: 'compute-9' is not a "
                       "host of the snapshot")

    def test_duplicates_and_unknown_metric_keys(self):
        doc = helpers.small_snapshot()
        doc['hosts'][1]['name'] = 'compute-1'
        doc['instances'][1]['host'] = 'compute-1'
        self.assertBad(doc, 'hosts[1] (compute-1).name: duplicate of '
                       'hosts[0]')
        doc = helpers.small_snapshot()
        doc['metrics']['instance_cpu_usage']['ghost'] = {
            'start': helpers.START, 'step': 300, 'values': [1] * 12}
        self.assertBad(doc, "metrics.instance_cpu_usage[ghost]: 'ghost' is "
                       "not a known instance uuid")

    def test_series_must_end_at_captured_at(self):
        doc = helpers.small_snapshot()
        doc['metrics']['instance_cpu_usage']['i-1']['values'] = [1] * 6
        self.assertBad(doc, 'metrics.instance_cpu_usage[i-1]: series ends '
                       'at 2026-11-02T11:30:00+00:00')

    def test_empty_and_not_json(self):
        self.assertBad('', 'the file is empty')
        self.assertBad('   \n', 'the file is empty')
        self.assertBad('{"version": 1,', 'not JSON or YAML')
        self.assertBad('[1, 2]', 'expected an object')

    def test_gzip_and_yaml_files(self):
        doc = helpers.small_snapshot()
        with tempfile.TemporaryDirectory() as d:
            gz = os.path.join(d, 's.json.gz')
            with open(gz, 'wb') as f:
                f.write(gzip.compress(json.dumps(doc).encode()))
            self.assertEqual(4, len(load.load(gz)['hosts']))
            y = os.path.join(d, 's.yaml')
            with open(y, 'w') as f:
                yaml.safe_dump(doc, f)
            self.assertEqual(4, len(load.load(y)['instances']))
            with self.assertRaisesRegex(load.SnapshotError,
                                        'No such file'):
                load.load(os.path.join(d, 'missing.json'))
