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
"""A small valid snapshot: 4 hosts of 16 cores, one busy instance each."""

import copy

NOW = '2026-11-02T12:00:00+00:00'
START = '2026-11-02T11:00:00+00:00'


def small_snapshot(percent=85):
    hosts = [{'name': 'compute-%d' % k, 'vcpus': 16, 'memory_mb': 32768,
              'disk_gb': 500} for k in range(1, 5)]
    insts = [{'uuid': 'i-%d' % k, 'name': 'vm-%d' % k,
              'host': 'compute-%d' % k, 'vcpus': 4, 'memory_mb': 4096,
              'disk_gb': 20} for k in range(1, 5)]
    metrics = {'instance_cpu_usage': {
        i['uuid']: {'start': START, 'step': 300, 'values': [percent] * 12}
        for i in insts}}
    return copy.deepcopy({
        'version': 1, 'captured_at': NOW, 'hosts': hosts,
        'instances': insts, 'metrics': metrics,
        'options': {'heat_consolidation': {
            'loop_hosts': ['compute-1', 'compute-2'],
            'target_heat_rate': 200.0}}})
