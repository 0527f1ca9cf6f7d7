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
"""The cloud as the integration tests drive and read it.

Audits, action plans and their actions (Watcher), servers and compute
services (Nova), nodes (Ironic), through the real ``openstack`` command
line of a :class:`tests.integration.conftest.Sandbox`. Shared by the test
modules, so that none imports another.
"""

import ast
import json
import time
import uuid

from heatwatcher.sandbox import control
from heatwatcher.sandbox import emulators
from heatwatcher.sandbox import watcher as sandbox_watcher

AUDIT_TIMEOUT = 900
PLAN_TIMEOUT = 1200
# Action listings carry each action's status message from API 1.5 on.
ACTION_API = ('--os-infra-optim-api-version', '1.5')


def create_audit(sandbox, name, *parameters):
    """``audit create``; ``parameters`` are ``key=value`` audit parameters.

    Audit names are unique in Watcher: ``name`` gets a random suffix, so
    that the tests can run again on a reused sandbox.
    """
    name = '%s-%s' % (name, uuid.uuid4().hex[:8])
    options = []
    for parameter in parameters:
        options += ['-p', parameter]
    audit = sandbox.openstack(
        'optimize', 'audit', 'create', '-g', 'heat_reuse', '-s',
        'heat_consolidation', '--name', name, *options)
    return audit['UUID']


def action_plan(sandbox, audit_uuid):
    """The UUID of the one action plan of an audit."""
    plans = sandbox.openstack('optimize', 'actionplan', 'list', '--audit',
                              audit_uuid)
    assert len(plans) == 1, plans
    return plans[0]['UUID']


def actions(sandbox, plan_uuid):
    """``optimize action list --detail`` of an action plan."""
    return sandbox.openstack('optimize', 'action', 'list', '--action-plan',
                             plan_uuid, '--detail')


def run_plan_expecting(sandbox, plan_uuid, state):
    """Start an action plan, wait until it settles in ``state``.

    :returns: {action UUID: action}, listed with their status messages
        (``--detail`` at API 1.5).
    """
    sandbox.openstack('optimize', 'actionplan', 'start', plan_uuid)
    reached = sandbox.wait_state('actionplan', plan_uuid, PLAN_TIMEOUT)
    assert reached == state
    return {action['UUID']: action for action in sandbox.openstack(
        'optimize', 'action', 'list', '--action-plan', plan_uuid,
        '--detail', *ACTION_API)}


def parameters(action):
    """An action's input parameters, whatever the client made of them."""
    params = action.get('input_parameters') or action['Parameters']
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            params = ast.literal_eval(params)
    return params


def kind(action):
    """The action type of a listed or offline-planned action.

    ``Action`` in ``--detail`` listings, ``action_type`` in ``heatwatcher
    plan --format json``.
    """
    return (action.get('action_type') or action.get('Action Type')
            or action['Action'])


def migrations(actions):
    """{instance uuid: destination host} of an action list."""
    return {parameters(action)['resource_id']:
            parameters(action)['destination_node']
            for action in actions if kind(action) == 'migrate'}


def descendants(actions, root):
    """UUIDs of the actions that come after ``root`` in the plan's graph."""
    children = {}
    for action in actions:
        for parent in action['Parents'] or []:
            children.setdefault(parent, []).append(action['UUID'])
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def servers(sandbox):
    """{server UUID: its host}, as Nova lists them (all projects)."""
    rows = sandbox.openstack('server', 'list', '--all-projects', '--long',
                             '-n')
    return {row['ID']: row['Host'] for row in rows}


def power_states(sandbox):
    """``openstack baremetal node list``: {node name (the host): state}."""
    rows = sandbox.openstack('baremetal', 'node', 'list', '--fields',
                             'name', 'power_state')
    return {row['name']: row['power_state'] for row in rows}


def host_status(sandbox):
    """{host: status} of the ``nova-compute`` services."""
    rows = sandbox.openstack('compute', 'service', 'list', '--service',
                             'nova-compute')
    return {row['Host']: row['Status'] for row in rows}


POWER_TIMEOUT = 120


def _restart_emulators(sandbox):
    """Restart Nova and Placement: the snapshot's placement, all enabled."""
    topology = sandbox.layout.path('emulators', 'topology.json')
    for service in emulators.services(sandbox.layout, topology):
        control.stop_service(sandbox.dir, service.name)
        service.start()
        service.wait(timeout=60)


def _power_all_on(sandbox):
    from tests.integration import conftest
    states = power_states(sandbox)
    for name, state in states.items():
        if state != 'power on':
            sandbox.run(conftest._command('openstack'), 'baremetal', 'node',
                        'power', 'on', name)
    deadline = time.monotonic() + POWER_TIMEOUT
    while time.monotonic() < deadline:
        states = power_states(sandbox)
        if set(states.values()) == {'power on'}:
            return
        time.sleep(2)
    raise AssertionError('nodes not powered on after %d s: %s'
                         % (POWER_TIMEOUT, states))


def restore_snapshot_cloud(sandbox):
    """Back to the snapshot's placement, every host enabled and powered on.

    For a module that must not depend on what the modules before it
    executed: restarts the Nova and Placement emulators (which reload the
    snapshot's topology), powers every node on, then waits for the
    decision engine to rebuild its model (the emulators send no
    notifications).
    """
    _restart_emulators(sandbox)
    _power_all_on(sandbox)
    time.sleep(sandbox_watcher.MODEL_PERIOD * 2 + 5)
    return sandbox
