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
"""Nova and Placement: the API emulators python-watcher ships for its own
functional tests, loaded with a snapshot's hosts and instances.

They keep their state in memory: a restart reloads the snapshot's
placement.
"""

import json
import os
import sys
import uuid

from heatwatcher.sandbox import process

EMULATORS = {
    'nova': ('watcher.tests.local_fixtures.nova_api_emulator',
             'NovaAPIEmulator'),
    'placement': ('watcher.tests.local_fixtures.placement_api_emulator',
                  'PlacementAPIEmulator'),
}


def node_uuid(host):
    """The hypervisor id of snapshot ``host`` (Watcher wants a UUID)."""
    try:
        return str(uuid.UUID(host['uuid']))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL,
                              'heatwatcher-sandbox:%s' % host['uuid']))


def topology(doc):
    """The emulators' JSON topology for snapshot ``doc``."""
    nodes = [{
        'uuid': node_uuid(host),
        'hostname': host['name'],
        'vcpus': host['vcpus'],
        'memory': host['memory_mb'],
        'disk': host['disk_gb'],
        'state': host.get('state', 'up'),
        'status': host.get('status', 'enabled'),
        'disabled_reason': host.get('disabled_reason'),
        'vcpu_ratio': host.get('vcpu_ratio', 1.0),
        'memory_ratio': host.get('memory_ratio', 1.0),
        'disk_ratio': host.get('disk_ratio', 1.0),
        'vcpu_reserved': host.get('vcpu_reserved', 0),
        'memory_mb_reserved': host.get('memory_mb_reserved', 0),
        'disk_gb_reserved': host.get('disk_gb_reserved', 0),
    } for host in doc['hosts']]
    instances = [{
        'uuid': inst['uuid'],
        'name': inst['name'],
        'host': inst['host'],
        'vcpus': inst['vcpus'],
        'memory': inst['memory_mb'],
        'disk': inst['disk_gb'],
        'state': inst.get('state', 'active'),
        'project_id': inst.get('project_id') or '',
        'metadata': inst.get('metadata') or {},
    } for inst in doc['instances']]
    return {'compute_nodes': nodes, 'instances': instances,
            'aggregates': []}


def write_topology(layout, doc):
    path = layout.path('emulators', 'topology.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        json.dump(topology(doc), handle, indent=1)
    return path


def services(layout, topology_path):
    """The Nova and Placement emulator processes."""
    out = []
    for name in ('nova', 'placement'):
        out.append(process.Service(layout, name, [
            sys.executable, '-m', 'heatwatcher.sandbox.emulators', name,
            topology_path, str(layout.port(name))],
            port=layout.port(name), cwd=layout.path('emulators')))
    return out


def serve(name, topology_path, port):
    """Serve emulator ``name`` on 127.0.0.1:``port``, one thread a request.

    The emulators' own ``main()`` serves one request at a time; the
    decision engine's model refresh and the applier's polling then queue
    behind each other.
    """
    import importlib

    from werkzeug import serving

    module_name, class_name = EMULATORS[name]
    emulator_class = getattr(importlib.import_module(module_name),
                             class_name)
    emulator = emulator_class()
    emulator.load_model(topology_path)
    serving.run_simple('127.0.0.1', port, emulator.app, threaded=True)


if __name__ == '__main__':
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
