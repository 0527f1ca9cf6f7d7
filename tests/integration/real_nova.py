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
"""A sandbox with real Nova and Placement (``up --nova real``), for the
``test_real_nova*`` modules.

The cloud is a small part of the bundled demo sample, cut the same way
every time (:func:`small_snapshot`): its first ``HOSTS_PER_TYPE`` hosts of
each hardware type, their instances and series, and the strategy options
restricted to them. One ``nova-compute`` runs per host.

Set ``HEATWATCHER_REAL_NOVA_DIR`` to a running ``--nova real`` sandbox to
reuse it (it is then left running), ``HEATWATCHER_REAL_NOVA_HOSTS_PER_TYPE``
for a larger or smaller cloud (3 by default: six hosts, 60 instances).
"""

import os
import subprocess
import sys
import tempfile
import time

import pytest

from heatwatcher.sandbox import cli as sandbox_cli
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.snapshot import load as snapshot_load
from tests.integration import cloud
from tests.integration import conftest

HOSTS_PER_TYPE = 3
BASE_PORT = 29000


def small_snapshot(path, per_type=HOSTS_PER_TYPE):
    """Write the small cloud cut from the demo sample to ``path``."""
    doc = snapshot_load.load(sandbox_cli.SAMPLE)
    kept, seen = [], {}
    for host in doc['hosts']:
        kind = host['name'].split('-')[0]
        if seen.get(kind, 0) < per_type:
            seen[kind] = seen.get(kind, 0) + 1
            kept.append(host)
    names = {host['name'] for host in kept}
    doc['hosts'] = kept
    doc['instances'] = [inst for inst in doc['instances']
                        if inst['host'] in names]
    keep = names | {inst['uuid'] for inst in doc['instances']} | {
        host['uuid'] for host in kept}
    doc['metrics'] = {
        metric: {key: series for key, series in by_key.items()
                 if key in keep}
        for metric, by_key in doc['metrics'].items()}
    options = doc['options'].get('heat_consolidation', {})
    if 'loop_hosts' in options:
        options['loop_hosts'] = [name for name in options['loop_hosts']
                                 if name in names]
    if 'host_targets' in options:
        options['host_targets'] = {
            name: target for name, target in options['host_targets'].items()
            if name in names}
    snapshot_load.dump(doc, path)
    return doc


# Module scope: each test_real_nova* module imports this fixture, and a
# session fixture imported into several modules is registered once per
# module, so their sandboxes all stayed up until the session ended.
# Each module still gets a cloud of its own, now one after the other.
@pytest.fixture(scope='module')
def real_nova(request):
    reuse = os.environ.get('HEATWATCHER_REAL_NOVA_DIR')
    if reuse:
        yield conftest.Sandbox(reuse)
        return
    parent = os.environ.get('HEATWATCHER_SANDBOX_PARENT', '/var/tmp')
    directory = tempfile.mkdtemp(prefix='hwnova-', dir=parent)
    snapshot = os.path.join(directory, 'small-snapshot.json.gz')
    small_snapshot(snapshot, int(os.environ.get(
        'HEATWATCHER_REAL_NOVA_HOSTS_PER_TYPE', HOSTS_PER_TYPE)))
    base_port = sandbox_layout.find_free_base_port(BASE_PORT)
    heatwatcher = conftest._command('heatwatcher')
    started = time.monotonic()
    up = subprocess.run(
        [heatwatcher, 'sandbox', 'up', '--nova', 'real', '--dir', directory,
         '--base-port', str(base_port), '--snapshot', snapshot],
        capture_output=True, text=True, timeout=conftest.UP_TIMEOUT)
    sys.stderr.write('sandbox up --nova real in %.0f s\n'
                     % (time.monotonic() - started))
    if up.returncode:
        pytest.fail('heatwatcher sandbox up --nova real exited %d:\n%s\n%s'
                    % (up.returncode, up.stdout, up.stderr))
    try:
        yield conftest.Sandbox(directory)
    finally:
        conftest.tear_down(heatwatcher, directory, request)


# -- Nova and Placement, as the tests read them ------------------------------

def snapshot_hosts(sandbox):
    """{server UUID: its snapshot host}, from the snapshot ``up`` booted."""
    doc = snapshot_load.load(sandbox.layout.path('nova', 'snapshot.json'))
    return {inst['uuid']: inst['host'] for inst in doc['instances']}


def session(sandbox):
    from heatwatcher.sandbox import keystone
    return keystone.admin_session(sandbox.layout)


def providers(sandbox, sess):
    """{resource provider name: uuid} in Placement."""
    rows = sess.get(sandbox.layout.url('placement', '/resource_providers'),
                    headers={'OpenStack-API-Version': 'placement 1.10'}
                    ).json()['resource_providers']
    return {row['name']: row['uuid'] for row in rows}


def allocations(sandbox, sess, consumer):
    """{provider uuid: resources} Placement holds for ``consumer``."""
    return {rp: alloc['resources'] for rp, alloc in sess.get(
        sandbox.layout.url('placement', '/allocations/%s' % consumer),
        headers={'OpenStack-API-Version': 'placement 1.28'}
    ).json()['allocations'].items()}


def usages(sandbox, sess, provider):
    return sess.get(sandbox.layout.url(
        'placement', '/resource_providers/%s/usages' % provider),
        headers={'OpenStack-API-Version': 'placement 1.10'}
    ).json()['usages']


def inventories(sandbox, sess, provider):
    return sess.get(sandbox.layout.url(
        'placement', '/resource_providers/%s/inventories' % provider),
        headers={'OpenStack-API-Version': 'placement 1.10'}
    ).json()['inventories']


def assert_allocations_follow_servers(sandbox, servers):
    """Each server's allocation is on its host's provider, and only there.

    No allocation is left on a source host (or held by a migration).
    """
    sess = session(sandbox)
    by_name = providers(sandbox, sess)
    wrong = {}
    for uid, host in servers.items():
        held = allocations(sandbox, sess, uid)
        if set(held) != {by_name[host]}:
            names = {rp: name for name, rp in by_name.items()}
            wrong[uid] = (host, sorted(names.get(rp, rp) for rp in held))
    assert wrong == {}, wrong


def last_live_migration(sandbox, server):
    """Nova's newest live migration of ``server``: (record, action events).

    The record's status and the events' ``details`` (the reason Nova gives,
    e.g. "No valid host was found.") as ``openstack server migration list``
    and ``server event show`` report them.
    """
    rows = sandbox.openstack('server', 'migration', 'list', '--server',
                             server, '--type', 'live-migration',
                             '--os-compute-api-version', '2.59')
    record = max(rows, key=lambda row: row['Created At'])
    actions = [row for row in sandbox.openstack('server', 'event', 'list',
                                                '--long', server)
               if row['Action'] == 'live-migration']
    action = max(actions, key=lambda row: row['Start Time'])
    detail = sandbox.openstack('server', 'event', 'show', server,
                               action['Request ID'],
                               '--os-compute-api-version', '2.84')
    return record, detail


def _live_migrate_all(sandbox, sess, moves, timeout=900):
    """Ask Nova for the live migrations ``{server: host}``; wait for them.

    Through the compute API directly (microversion 2.30, the scheduler
    checks each destination): many at once, then wait until none of them
    is migrating any more.
    """
    from heatwatcher.sandbox import nova as sandbox_nova

    headers = {'OpenStack-API-Version': 'compute 2.30'}
    for uid, host in moves.items():
        sess.post(sandbox_nova.compute_url(
            sandbox.layout, '/servers/%s/action' % uid), headers=headers,
            json={'os-migrateLive': {'host': host, 'block_migration':
                                     'auto'}}, raise_exc=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [server for server in sandbox_nova.servers(sandbox.layout,
                                                          sess)
                if server['id'] in moves and server.get(
                    'OS-EXT-STS:task_state')]
        if not busy:
            return
        time.sleep(3)
    pytest.fail('%d servers still migrating after %d s'
                % (len(busy), timeout))


def reset_cloud(sandbox, rounds=4):
    """Every server back on its snapshot host, every compute enabled.

    Through Nova's API, as an operator would: live migrations (each
    checked by the scheduler and Placement), a few rounds, since a host
    may have room only once others have left it.
    """
    openstack = conftest._command('openstack')
    for row in sandbox.openstack('compute', 'service', 'list', '--service',
                                 'nova-compute'):
        if row['Status'] != 'enabled' or row['State'] != 'up':
            sandbox.run(openstack, 'compute', 'service', 'set', '--enable',
                        '--up', '--os-compute-api-version', '2.11',
                        row['Host'], 'nova-compute')
    home = snapshot_hosts(sandbox)
    sess = session(sandbox)
    for _ in range(rounds):
        where = cloud.servers(sandbox)
        away = {uid: home[uid] for uid, host in where.items()
                if uid in home and host != home[uid]}
        if not away:
            break
        _live_migrate_all(sandbox, sess, away)
    where = cloud.servers(sandbox)
    assert {uid: host for uid, host in where.items() if uid in home} == (
        home), {uid: (host, home[uid]) for uid, host in where.items()
                if uid in home and host != home[uid]}
