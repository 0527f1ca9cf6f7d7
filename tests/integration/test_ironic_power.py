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
"""Issue 16, Ironic in the sandbox: one fake-hardware node per compute host,
found by Watcher's Ironic helper through ``extra.compute_node_id``, whose
power state the real ``openstack baremetal`` client changes and reads back.
"""

import time

import pytest

from tests.integration import conftest

POWER_TIMEOUT = 60


def _power(sandbox, name, verb):
    """``openstack baremetal node power on|off NAME``."""
    sandbox.run(conftest._command('openstack'), 'baremetal', 'node',
                'power', verb, name)


def _nodes(sandbox):
    """``openstack baremetal node list --long``: {name: row}.

    Its JSON rows are keyed by Ironic's field names (``power_state``...).
    """
    rows = sandbox.openstack('baremetal', 'node', 'list', '--long')
    return {row['name']: row for row in rows}


def _power_state(sandbox, name):
    rows = sandbox.openstack('baremetal', 'node', 'list', '--fields',
                             'name', 'power_state')
    return {row['name']: row['power_state'] for row in rows}[name]


def _wait_power(sandbox, name, wanted):
    deadline = time.monotonic() + POWER_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        state = _power_state(sandbox, name)
        if state == wanted:
            return state
        time.sleep(1)
    pytest.fail('node %s still %s, not %s, after %d s'
                % (name, state, wanted, POWER_TIMEOUT))


@pytest.fixture(scope='module')
def baremetal(sandbox):
    """The catalog has Ironic: {node name: row}, at least one node."""
    types = {row['Type'] for row in sandbox.openstack('catalog', 'list')}
    if 'baremetal' not in types:
        pytest.fail('the sandbox has no baremetal service in its catalog '
                    '(heatwatcher.sandbox.ironic is not started by "up")')
    nodes = _nodes(sandbox)
    assert nodes, 'Ironic lists no node'
    return nodes


def test_one_node_per_hypervisor(sandbox, baremetal):
    hypervisors = {row['ID']: row['Hypervisor Hostname'] for row in
                   sandbox.openstack('hypervisor', 'list')}
    by_hypervisor = {row['extra'].get('compute_node_id'): name
                     for name, row in baremetal.items()}
    assert set(by_hypervisor) == set(hypervisors)
    for hypervisor_id, hostname in hypervisors.items():
        assert by_hypervisor[hypervisor_id] == hostname
    for name, row in baremetal.items():
        assert row['driver'] == 'fake-hardware', name
        assert row['provision_state'] in ('manageable', 'available'), name
        assert not row['maintenance'], name


def test_power_off_and_on(sandbox, baremetal):
    """Power the last node off and on; the other nodes stay as they were.

    Earlier tests (audits with ``idle_host_action=power_off``) may have
    powered hosts off: the node is powered on first if it is off.
    """
    name = sorted(baremetal)[-1]
    if _power_state(sandbox, name) != 'power on':
        _power(sandbox, name, 'on')
        _wait_power(sandbox, name, 'power on')
    before = {other: row['power_state']
              for other, row in _nodes(sandbox).items() if other != name}
    _power(sandbox, name, 'off')
    assert _wait_power(sandbox, name, 'power off') == 'power off'
    after = {other: row['power_state']
             for other, row in _nodes(sandbox).items() if other != name}
    assert after == before
    _power(sandbox, name, 'on')
    assert _wait_power(sandbox, name, 'power on') == 'power on'
