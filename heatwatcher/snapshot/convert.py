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
from heatwatcher.telemetry import series

DEFAULT_PROJECT = '00000000-0000-0000-0000-000000000000'


def to_model(doc):
    model = model_root.ModelRoot()
    nodes = {}
    for host in doc['hosts']:
        node = element.ComputeNode(
            uuid=host['uuid'], hostname=host['name'], vcpus=host['vcpus'],
            vcpu_reserved=host['vcpu_reserved'],
            vcpu_ratio=host['vcpu_ratio'], memory=host['memory_mb'],
            memory_mb_reserved=host['memory_mb_reserved'],
            memory_ratio=host['memory_ratio'], disk=host['disk_gb'],
            disk_gb_reserved=host['disk_gb_reserved'],
            disk_ratio=host['disk_ratio'], state=host['state'],
            status=host['status'],
            disabled_reason=host.get('disabled_reason'))
        model.add_node(node)
        nodes[host['name']] = node
    for instance in doc['instances']:
        instance_element = element.Instance(
            uuid=instance['uuid'], name=instance['name'],
            state=instance['state'], vcpus=instance['vcpus'],
            memory=instance['memory_mb'], disk=instance['disk_gb'],
            metadata=instance.get('metadata', {}),
            project_id=instance.get('project_id') or DEFAULT_PROJECT,
            locked=False, watcher_exclude=instance['watcher_exclude'])
        model.add_instance(instance_element)
        model.map_instance(instance_element, nodes[instance['host']])
    return model


def to_datasource(doc):
    series_by_metric = {
        metric: {key: series.Series(load._parse_time(spec['start']),
                                    spec['step'], spec['values'])
                 for key, spec in series_by_key.items()}
        for metric, series_by_key in doc['metrics'].items()}
    return series.SeriesDataSource(
        series_by_metric, now=load._parse_time(doc['captured_at']))


class _Hypervisor:
    def __init__(self, name):
        self.hypervisor_hostname = name
        self.service_host = name


class _MetalNode:
    def __init__(self, node_id, hostname):
        self._id = node_id
        self._hypervisor = _Hypervisor(hostname)

    def get_id(self):
        return self._id

    def get_hypervisor_node(self):
        return self._hypervisor


class MetalHelper:
    """Bare metal nodes of a snapshot, as Watcher's metal helper lists them.

    A host without ``baremetal_node`` is its own node: power actions then
    name it by hostname.
    """

    def __init__(self, doc):
        self._nodes = [_MetalNode(host.get('baremetal_node') or host['name'],
                                  host['name']) for host in doc['hosts']]

    def list_compute_nodes(self):
        return list(self._nodes)
