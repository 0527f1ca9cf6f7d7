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
"""Bulk reads of a sandbox's real Gnocchi among resources it cannot read.

Run as ``python -m tests.integration.gnocchi_probe SANDBOX_DIR`` (in a
process of its own: it parses the sandbox's ``watcher.conf`` into Watcher's
global configuration). Through the Watcher Gnocchi datasource of that
configuration, it adds to Gnocchi, beside the sandbox's instances:

- ``odd``: an instance whose ``cpu`` metric has an archive policy of 60 s
  only (Gnocchi refuses any aggregates request at 300 s that includes it);
- ``bare``: one without a ``cpu`` metric;
- ``new``: one whose ``cpu`` metric has no measures yet;

reads ``instance_cpu_usage`` of 5 sandbox instances and these 3 in bulk
(:func:`heatwatcher.telemetry.gnocchi_bulk.read`), and in bulk the 3 alone;
then Watcher's own per-resource reads of the 5. It prints one JSON
document, and deletes what it added.
"""

import datetime
import json
import sys
import types
import uuid
import warnings

UTC = datetime.timezone.utc


def main(directory):
    warnings.filterwarnings('ignore')
    from heatwatcher.sandbox import layout as sandbox_layout
    from heatwatcher.snapshot import capture
    from heatwatcher.snapshot import run as snapshot_run
    from heatwatcher.telemetry import collect
    from heatwatcher.telemetry import gnocchi_bulk
    layout, _services = sandbox_layout.Layout.load(directory)
    snapshot_run.configure(layout.path('watcher', 'watcher.conf'))
    datasource = capture.datasource_backend(['instance_cpu_usage'])
    client = datasource.gnocchi
    real = sorted(resource['id'] for resource in client.resource.search(
        resource_type='instance', query={'=': {'ended_at': None}},
        limit=5))
    policy = 'probe-60s-%s' % uuid.uuid4().hex[:8]
    client.archive_policy.create({
        'name': policy, 'aggregation_methods': ['mean'],
        'definition': [{'granularity': '60s', 'points': 60}]})
    added = {'odd': str(uuid.uuid4()), 'bare': str(uuid.uuid4()),
             'new': str(uuid.uuid4())}
    client.resource.create('generic', {'id': added['odd'], 'metrics': {
        'cpu': {'archive_policy_name': policy}}})
    client.resource.create('generic', {'id': added['bare'], 'metrics': {
        'memory': {'archive_policy_name': policy}}})
    default_policy = client.resource.get(
        'generic', real[0])['metrics']['cpu']
    client.resource.create('generic', {'id': added['new'], 'metrics': {
        'cpu': {'archive_policy_name': client.metric.get(
            default_policy)['archive_policy']['name']}}})
    try:
        end = datetime.datetime.now(UTC)
        start = end - datetime.timedelta(hours=2)

        def resources(ids):
            return {key: types.SimpleNamespace(uuid=key, vcpus=1)
                    for key in ids}

        mixed, mixed_notes = gnocchi_bulk.read(
            datasource, resources(real + list(added.values())), 'instance',
            'instance_cpu_usage', start, end, 300, 'instances')
        alone, alone_notes = gnocchi_bulk.read(
            datasource, resources([added['bare']]), 'instance',
            'instance_cpu_usage', start, end, 300, 'instances')
        watcher, _ = collect._read_series(
            datasource, resources(real), 'instance', 'instance_cpu_usage',
            start, end, 300, 'instances')
        same = {key: (mixed[key].times.tolist() == watcher[key].times.tolist()
                      and mixed[key].values.tolist()
                      == watcher[key].values.tolist())
                for key in real if key in mixed and key in watcher}
        print(json.dumps({
            'real': real, 'added': added, 'read': sorted(mixed),
            'notes': mixed_notes, 'alone': sorted(alone),
            'alone_notes': alone_notes, 'same_as_watcher': same}))
    finally:
        for key in added.values():
            client.resource.delete(key)
        try:   # in use until gnocchi-metricd deletes the metrics
            client.archive_policy.delete(policy)
        except Exception:
            pass


if __name__ == '__main__':
    main(sys.argv[1])
