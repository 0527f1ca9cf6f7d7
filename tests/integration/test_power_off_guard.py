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
"""Issue 16, point 2: a power-off whose host is no longer empty.

Between planning and execution an instance is live-migrated onto a host
the plan empties and powers off. The plan's power-off of that host must
fail, naming the host, leave the node powered on, and (``heat_guarded``)
nothing that depends on it runs. The audit has no migration budget:
under one, the plan spends its migrations on harvested heat before it
empties hosts, and this test needs hosts to power off.

The module starts from the snapshot's placement whatever ran before it:
:func:`cloud.restore_snapshot_cloud`.
"""

import pytest

from tests.integration import cloud
from tests.integration import conftest

AUDIT_PARAMETERS = ('idle_host_action=power_off',)


@pytest.fixture(scope='module')
def fresh_cloud(sandbox):
    return cloud.restore_snapshot_cloud(sandbox)


def test_power_off_of_a_host_no_longer_empty_fails(fresh_cloud):
    sandbox = fresh_cloud
    audit_uuid = cloud.create_audit(sandbox, 'integration-guard',
                                    *AUDIT_PARAMETERS)
    state = sandbox.wait_state('audit', audit_uuid,
                               cloud.AUDIT_TIMEOUT)
    assert state == 'SUCCEEDED'
    plan_uuid = cloud.action_plan(sandbox, audit_uuid)
    actions = cloud.actions(sandbox, plan_uuid)
    power_offs = {cloud.parameters(action)['resource_name']: action
                  for action in actions
                  if cloud.kind(action) == 'heatwatcher_node_power'}
    assert power_offs, 'the plan powers no host off'
    moves = cloud.migrations(actions)
    servers = cloud.servers(sandbox)
    # The power-off with the most actions after it: the guard has the most
    # to hold back. (heat_sequenced makes the power-offs the plan's last
    # actions, each after every migration: then none has any.)
    host = max(sorted(power_offs), key=lambda name: len(
        cloud.descendants(actions, power_offs[name]['UUID'])))
    guarded = cloud.descendants(actions, power_offs[host]['UUID'])
    staying = sorted(uuid for uuid, where in servers.items()
                     if uuid not in moves and where not in power_offs)
    assert staying, 'every instance moves or sits on an emptied host'
    intruder = staying[0]
    sandbox.run(conftest._command('openstack'), 'server', 'migrate',
                '--live-migration', '--host', host,
                '--os-compute-api-version', '2.30', intruder)
    assert cloud.servers(sandbox)[intruder] == host

    after = cloud.run_plan_expecting(sandbox, plan_uuid, 'FAILED')
    failed = after[power_offs[host]['UUID']]
    assert failed['State'] == 'FAILED', failed
    assert host in failed['Status Message'], failed
    assert 'instance' in failed['Status Message'], failed
    assert [uuid for uuid in guarded
            if after[uuid]['State'] == 'SUCCEEDED'] == []
    power = cloud.power_states(sandbox)
    assert power[host] == 'power on'
    assert cloud.servers(sandbox)[intruder] == host
    # The other hosts' power-offs do not depend on this one: each checked
    # its own host, found it empty and powered it off.
    for name, action in power_offs.items():
        if name != host and action['UUID'] not in guarded:
            assert after[action['UUID']]['State'] == 'SUCCEEDED', name
            assert power[name] == 'power off', name
