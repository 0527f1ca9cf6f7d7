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
"""Turn a validated snapshot into what a Watcher strategy reads.

* the compute model, as Watcher's ``ModelRoot``;
* the metrics, through :class:`~heatwatcher.telemetry.series.
  SeriesDataSource`, which implements Watcher's datasource interface;
* the bare metal nodes, through a metal helper with the interface of
  Watcher's Ironic helper (node id = ``baremetal_node`` or the hostname).
"""

from watcher.decision_engine.model import element
from watcher.decision_engine.model import model_root

from heatwatcher.snapshot import load
from heatwatcher.telemetry import series as series_mod

DEFAULT_PROJECT = '00000000-0000-0000-0000-000000000000'


def to_model(doc):
    model = model_root.ModelRoot()
    nodes = {}
    for h in doc['hosts']:
        node = element.ComputeNode(
            uuid=h['uuid'], hostname=h['name'], vcpus=h['vcpus'],
            vcpu_reserved=h['vcpu_reserved'], vcpu_ratio=h['vcpu_ratio'],
            memory=h['memory_mb'], memory_mb_reserved=h['memory_mb_reserved'],
            memory_ratio=h['memory_ratio'], disk=h['disk_gb'],
            disk_gb_reserved=h['disk_gb_reserved'],
            disk_ratio=h['disk_ratio'], state=h['state'],
            status=h['status'], disabled_reason=h.get('disabled_reason'))
        model.add_node(node)
        nodes[h['name']] = node
    for i in doc['instances']:
        inst = element.Instance(
            uuid=i['uuid'], name=i['name'], state=i['state'],
            vcpus=i['vcpus'], memory=i['memory_mb'], disk=i['disk_gb'],
            metadata=i.get('metadata', {}),
            project_id=i.get('project_id') or DEFAULT_PROJECT, locked=False,
            watcher_exclude=i['watcher_exclude'])
        model.add_instance(inst)
        model.map_instance(inst, nodes[i['host']])
    return model


def to_datasource(doc):
    series = {
        metric: {key: series_mod.Series(load._parse_time(s['start']),
                                        s['step'], s['values'])
                 for key, s in per.items()}
        for metric, per in doc['metrics'].items()}
    return series_mod.SeriesDataSource(
        series, now=load._parse_time(doc['captured_at']))


class _Hypervisor:
    def __init__(self, name):
        self.hypervisor_hostname = name
        self.service_host = name


class _MetalNode:
    def __init__(self, node_id, hostname):
        self._id = node_id
        self._hv = _Hypervisor(hostname)

    def get_id(self):
        return self._id

    def get_hypervisor_node(self):
        return self._hv


class MetalHelper:
    """Bare metal nodes of a snapshot, as Watcher's metal helper lists them.

    A host without ``baremetal_node`` is its own node: power actions then
    name it by hostname.
    """

    def __init__(self, doc):
        self._nodes = [_MetalNode(h.get('baremetal_node') or h['name'],
                                  h['name']) for h in doc['hosts']]

    def list_compute_nodes(self):
        return list(self._nodes)
