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
"""Issue 17, point 1: the heat_consolidation flow against real Nova.

A sandbox with real Nova and Placement (``up --nova real``, one
``nova-compute`` with the fake driver per host; see
:mod:`tests.integration.real_nova`): Watcher's decision engine builds its
model from Nova and Placement, the audit plans, the applier executes the
plan through Watcher's own Nova helper (live migrations checked by Nova's
conductor and scheduler, claimed in Placement), and:

* each instance is where the plan's migrate action sent it, per Nova's
  API, with its allocation on that host's provider only;
* the hosts the plan empties are disabled in Nova (and empty);
* a second audit plans no migration.

The tests of this module run in order and share the audit's results.
"""

import time

import pytest

from heatwatcher.sandbox import watcher as sandbox_watcher
from tests.integration import cloud
from tests.integration import real_nova as helpers
from tests.integration.real_nova import real_nova  # noqa: F401 (fixture)

SOLVER = 'solver_time_limit=600'


@pytest.fixture(scope='module')
def flow(real_nova):  # noqa: F811
    """The cloud as ``up`` booted it; results shared in order."""
    helpers.reset_cloud(real_nova)
    return {}


def test_nova_holds_the_snapshot(real_nova, flow):  # noqa: F811
    sandbox = real_nova
    home = helpers.snapshot_hosts(sandbox)
    assert cloud.servers(sandbox) == home
    # One nova-compute per snapshot host, each its own hypervisor.
    hypervisors = {row['Hypervisor Hostname']: row for row in
                   sandbox.openstack('hypervisor', 'list')}
    assert set(hypervisors) == set(home.values())
    assert {row['Hypervisor Type'] for row in hypervisors.values()} == {
        'fake'}
    # Placement holds each server's allocation, on its host.
    helpers.assert_allocations_follow_servers(sandbox, home)


def test_audit_succeeds(real_nova, flow):  # noqa: F811
    sandbox = real_nova
    started = time.monotonic()
    audit_uuid = cloud.create_audit(sandbox, 'real-nova-first', SOLVER)
    state = sandbox.wait_state('audit', audit_uuid,
                               cloud.AUDIT_TIMEOUT)
    flow['audit_seconds'] = time.monotonic() - started
    assert state == 'SUCCEEDED', sandbox.openstack(
        'optimize', 'audit', 'show', audit_uuid)
    plan_uuid = cloud.action_plan(sandbox, audit_uuid)
    actions = cloud.actions(sandbox, plan_uuid)
    moves = cloud.migrations(actions)
    assert moves, 'the audit planned no migration'
    flow['plan'] = plan_uuid
    flow['actions'] = actions
    flow['servers_before'] = cloud.servers(sandbox)
    # The plan starts from Nova's placement.
    sources = {cloud.parameters(action)['resource_id']:
               cloud.parameters(action)['source_node']
               for action in actions
               if cloud.kind(action) == 'migrate'}
    assert sources == {uid: flow['servers_before'][uid] for uid in sources}


def test_execution_moves_the_instances_in_nova(real_nova, flow):  # noqa
    sandbox = real_nova
    if 'plan' not in flow:
        pytest.fail('no action plan from the first audit')
    plan_uuid = flow['plan']
    started = time.monotonic()
    sandbox.openstack('optimize', 'actionplan', 'start', plan_uuid)
    state = sandbox.wait_state('actionplan', plan_uuid,
                               cloud.PLAN_TIMEOUT)
    flow['execution_seconds'] = time.monotonic() - started
    after = cloud.actions(sandbox, plan_uuid)
    assert state == 'SUCCEEDED', [
        (action['Action'], action['State']) for action in after
        if action['State'] != 'SUCCEEDED']
    expected = dict(flow['servers_before'])
    expected.update(cloud.migrations(flow['actions']))
    disabled = set()
    for action in flow['actions']:
        params = cloud.parameters(action)
        if (cloud.kind(action) == 'change_nova_service_state'
                and params.get('state') == 'disabled'):
            disabled.add(params.get('resource_name')
                         or params['resource_id'])
    servers = cloud.servers(sandbox)
    assert servers == expected
    helpers.assert_allocations_follow_servers(sandbox, servers)
    emptied = set(flow['servers_before'].values()) - set(servers.values())
    assert emptied, 'the plan empties no host'
    status = cloud.host_status(sandbox)
    assert {host for host, value in status.items()
            if value == 'disabled'} == disabled
    assert emptied <= disabled
    assert not disabled & set(servers.values())
    # Nova recorded a completed live migration per migrate action.
    migrations = sandbox.openstack('server', 'migration', 'list',
                                   '--type', 'live-migration')
    done = {row['Server UUID'] for row in migrations
            if row['Status'] == 'completed'}
    assert set(cloud.migrations(flow['actions'])) <= done
    flow['executed'] = True


def test_second_audit_plans_no_migration(real_nova, flow):  # noqa: F811
    sandbox = real_nova
    if 'executed' not in flow:
        pytest.fail('the first action plan was not executed')
    # Let the decision engine rebuild its compute model from Nova (its
    # notifications update it too).
    time.sleep(sandbox_watcher.MODEL_PERIOD * 2 + 5)
    audit_uuid = cloud.create_audit(sandbox, 'real-nova-second', SOLVER)
    state = sandbox.wait_state('audit', audit_uuid,
                               cloud.AUDIT_TIMEOUT)
    assert state == 'SUCCEEDED'
    plans = sandbox.openstack('optimize', 'actionplan', 'list', '--audit',
                              audit_uuid)
    migrations = [action for plan in plans
                  for action in cloud.actions(sandbox, plan['UUID'])
                  if cloud.kind(action) == 'migrate']
    assert migrations == []
