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
"""Issue 17, point 3: Nova refuses a planned live migration.

Between planning and execution a destination of the plan is made full in
Placement: a server booted onto it (through Nova, so Placement claims it)
takes all the memory it has left. Executing the plan, Nova's scheduler
finds no room there (Placement has no allocation candidate on that host),
so each migration into it fails and the instance stays where it is.

With ``heat_guarded``: the failed actions are FAILED, no action that comes
after one of them in the plan's graph runs, and no host that still holds
an instance is disabled. Nova records its own reason for the refusal (the
migration in state ``error``, and the instance action's failed event).
"""

import time

import pytest

from tests.integration import cloud
from tests.integration import conftest
from tests.integration import real_nova as helpers
from tests.integration.real_nova import real_nova  # noqa: F401 (fixture)

SOLVER = 'solver_time_limit=600'
FILLER = 'hw-filler'


@pytest.fixture(scope='module')
def fresh_cloud(real_nova):  # noqa: F811
    helpers.reset_cloud(real_nova)
    _delete_filler(real_nova)
    # The reset moved servers: let the decision engine's model follow.
    time.sleep(70)
    yield real_nova
    _delete_filler(real_nova)


def _delete_filler(sandbox):
    openstack = conftest._command('openstack')
    for row in sandbox.openstack('server', 'list', '--all-projects',
                                 '--name', '^%s$' % FILLER):
        sandbox.run(openstack, 'server', 'delete', '--wait', row['ID'])
    flavors = sandbox.openstack('flavor', 'list', '--all')
    for row in flavors:
        if row['Name'] == FILLER:
            sandbox.run(openstack, 'flavor', 'delete', row['ID'])


def _fill_memory(sandbox, host):
    """Boot a server on ``host`` taking all the memory Placement has left.

    :returns: the memory (MiB) it took.
    """
    sess = helpers.session(sandbox)
    provider = helpers.providers(sandbox, sess)[host]
    inventory = helpers.inventories(sandbox, sess, provider)['MEMORY_MB']
    used = helpers.usages(sandbox, sess, provider)['MEMORY_MB']
    free = int((inventory['total'] - inventory['reserved'])
               * inventory['allocation_ratio']) - used
    assert free > 0, (host, inventory, used)
    openstack = conftest._command('openstack')
    sandbox.run(openstack, 'flavor', 'create', '--vcpus', '1', '--ram',
                str(free), '--disk', '1', FILLER)
    # Booted as ``up`` boots the snapshot's servers: on ``host`` (2.74),
    # checked by the scheduler, claimed in Placement.
    from heatwatcher.sandbox import nova as sandbox_nova
    flavors = {row['Name']: row['ID']
               for row in sandbox.openstack('flavor', 'list', '--all')}
    body = {'server': {'name': FILLER, 'imageRef': sandbox_nova.IMAGE_ID,
                       'flavorRef': flavors[FILLER], 'networks': 'none',
                       'host': host}}
    response = sess.post(
        sandbox_nova.compute_url(sandbox.layout, '/servers'), json=body,
        headers={'OpenStack-API-Version': 'compute 2.74'})
    uid = response.json()['server']['id']
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        server = sandbox.openstack('server', 'show', uid)
        if server['status'] in ('ACTIVE', 'ERROR'):
            break
        time.sleep(2)
    assert server['status'] == 'ACTIVE', server
    assert helpers.usages(sandbox, sess, provider)['MEMORY_MB'] == (
        used + free)
    return free


def test_a_destination_full_in_placement_is_refused(fresh_cloud):
    sandbox = fresh_cloud
    audit_uuid = cloud.create_audit(sandbox, 'real-nova-refusal', SOLVER)
    state = sandbox.wait_state('audit', audit_uuid,
                               cloud.AUDIT_TIMEOUT)
    assert state == 'SUCCEEDED'
    plan_uuid = cloud.action_plan(sandbox, audit_uuid)
    actions = cloud.actions(sandbox, plan_uuid)
    moves = cloud.migrations(actions)
    assert moves, 'the plan has no migration'
    before = cloud.servers(sandbox)
    # The destination receiving the most migrations.
    counts = {}
    for host in moves.values():
        counts[host] = counts.get(host, 0) + 1
    full = max(sorted(counts), key=counts.get)
    refused = {action['UUID']: cloud.parameters(action)
               for action in actions
               if cloud.kind(action) == 'migrate'
               and cloud.parameters(action)['destination_node']
               == full}
    _fill_memory(sandbox, full)

    after = cloud.run_plan_expecting(sandbox, plan_uuid, 'FAILED')
    servers = cloud.servers(sandbox)
    failed = [uid for uid, action in after.items()
              if action['State'] == 'FAILED']
    assert failed, after
    # Only migrations into the full host failed; those that ran stayed put.
    assert set(failed) <= set(refused), [
        (after[uid]['Action'], after[uid]['Status Message'])
        for uid in failed if uid not in refused]
    for uid in failed:
        instance = refused[uid]['resource_id']
        assert servers[instance] == before[instance], (instance, full)
        # Nova's reason: its migration record is in error, and the
        # instance action's failed event says why.
        record, detail = helpers.last_live_migration(sandbox, instance)
        assert record['Status'] == 'error', record
        assert detail['message'] == 'Error', detail
        reasons = ' '.join(str(event.get('details'))
                           for event in detail['events'])
        assert 'No valid host' in reasons, detail
    # heat_guarded: nothing after a failed action ran.
    later = set()
    for uid in failed:
        later |= cloud.descendants(list(after.values()), uid)
    assert [(after[uid]['Action'], after[uid]['State']) for uid in later
            if after[uid]['State'] == 'SUCCEEDED'] == []
    # No host that still holds an instance is disabled.
    status = cloud.host_status(sandbox)
    disabled = {host for host, value in status.items()
                if value == 'disabled'}
    occupied = set(servers.values())
    assert not disabled & occupied, (disabled, occupied)
    # Placement agrees with Nova (the filler aside).
    helpers.assert_allocations_follow_servers(
        sandbox, {uid: host for uid, host in servers.items()
                  if uid in before})
