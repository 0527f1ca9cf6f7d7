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
"""Issue 17, point 2: a swap on full hosts, ordered by each planner.

Two instances of the same size, X on host H1 and Y on H2, must trade
places, and both hosts are full in Placement: a server booted on each
(through Nova) leaves less memory free than X or Y needs. The plan is the
two migrations X: H1->H2 and Y: H2->H1.

The compute model is the one Watcher's decision engine builds (Watcher's
own ``NovaModelBuilder``, reading the real Nova and Placement), with the
plan's moves applied as a strategy applies them. Each planner orders the
plan as it would in an audit (``heatwatcher.snapshot.run.schedule``, the
planners' own code), and the ordered actions run through Watcher's own
``migrate`` action (its Nova helper, live migrations), each after its
parents, those of a wave together:

* ``heat_sequenced`` sends one instance through a third host with room
  (a temporary hop): every migration succeeds, Placement refuses none;
* Watcher's stock ``weight`` planner puts both migrations in its first
  batch (``migrate: 2`` in parallel): Nova's scheduler finds no room on
  either destination (Placement has no allocation candidate), both fail
  with "No valid host" and nothing moves.
"""

import concurrent.futures
import time
import types

import pytest

from heatwatcher.sandbox import watcher as sandbox_watcher
from tests.integration import cloud
from tests.integration import conftest
from tests.integration import real_nova as helpers
from tests.integration.real_nova import real_nova  # noqa: F401 (fixture)

FILLER = 'hw-swap-filler'


def _filler_free(sandbox, host):
    sess = helpers.session(sandbox)
    provider = helpers.providers(sandbox, sess)[host]
    inventory = helpers.inventories(sandbox, sess, provider)['MEMORY_MB']
    used = helpers.usages(sandbox, sess, provider)['MEMORY_MB']
    return int((inventory['total'] - inventory['reserved'])
               * inventory['allocation_ratio']) - used


def _boot_filler(sandbox, host, memory_mb):
    from heatwatcher.sandbox import nova as sandbox_nova

    sess = helpers.session(sandbox)
    name = '%s-%s' % (FILLER, host)
    flavor = sess.post(sandbox_nova.compute_url(sandbox.layout, '/flavors'),
                       json={'flavor': {'name': name, 'vcpus': 1,
                                        'ram': memory_mb, 'disk': 1}}
                       ).json()['flavor']['id']
    uid = sess.post(
        sandbox_nova.compute_url(sandbox.layout, '/servers'),
        headers={'OpenStack-API-Version': 'compute 2.74'},
        json={'server': {'name': name, 'imageRef': sandbox_nova.IMAGE_ID,
                         'flavorRef': flavor, 'networks': 'none',
                         'host': host}}).json()['server']['id']
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        server = sess.get(sandbox_nova.compute_url(
            sandbox.layout, '/servers/%s' % uid)).json()['server']
        if server['status'] in ('ACTIVE', 'ERROR'):
            break
        time.sleep(2)
    assert server['status'] == 'ACTIVE', server
    return uid, flavor


def _delete_fillers(sandbox):
    openstack = conftest._command('openstack')
    for row in sandbox.openstack('server', 'list', '--all-projects',
                                 '--name', '^%s' % FILLER):
        sandbox.run(openstack, 'server', 'delete', '--wait', row['ID'])
    for row in sandbox.openstack('flavor', 'list', '--all'):
        if row['Name'].startswith(FILLER):
            sandbox.run(openstack, 'flavor', 'delete', row['ID'])


@pytest.fixture(scope='module')
def swap(real_nova):  # noqa: F811
    """X on H1, Y on H2 (same size), both hosts full; the plan's actions."""
    sandbox = real_nova
    helpers.reset_cloud(sandbox)
    _delete_fillers(sandbox)
    from heatwatcher.snapshot import load as snapshot_load
    doc = snapshot_load.load(sandbox.layout.path('nova', 'snapshot.json'))
    by_host = {}
    for inst in doc['instances']:
        by_host.setdefault(inst['host'], []).append(inst)
    hosts = sorted(by_host)
    pair = None
    for h1 in hosts:
        for h2 in hosts:
            if h2 <= h1:
                continue
            for x in by_host[h1]:
                same = [y for y in by_host[h2]
                        if (y['vcpus'], y['memory_mb'], y['disk_gb'])
                        == (x['vcpus'], x['memory_mb'], x['disk_gb'])]
                if same and (pair is None
                             or x['memory_mb'] > pair[0]['memory_mb']):
                    pair = (x, same[0])
    assert pair, 'no two hosts hold instances of the same size'
    x, y = pair
    size = x['memory_mb']
    for host in (x['host'], y['host']):
        # Leave half an instance free: neither can arrive before the
        # other has left.
        _boot_filler(sandbox, host, _filler_free(sandbox, host) - size // 2)
        assert 0 < _filler_free(sandbox, host) < size
    actions = [
        {'action_type': 'migrate', 'input_parameters': {
            'resource_id': inst['uuid'], 'migration_type': 'live',
            'source_node': inst['host'], 'destination_node': dest,
            'resource_name': inst['name']}}
        for inst, dest in ((x, y['host']), (y, x['host']))]
    yield types.SimpleNamespace(sandbox=sandbox, x=x, y=y, actions=actions)
    _delete_fillers(sandbox)


def _model_after(actions):
    """Watcher's compute model from Nova, with the moves applied."""
    from watcher.decision_engine.model.collector import nova as collector

    model = collector.NovaModelBuilder().execute([])
    for action in actions:
        params = action['input_parameters']
        model.migrate_instance(
            model.get_instance_by_uuid(params['resource_id']),
            model.get_node_by_name(params['source_node']),
            model.get_node_by_name(params['destination_node']))
    return model


def _order(planner, actions, model):
    from heatwatcher.snapshot import run
    strategy = types.SimpleNamespace(planner=planner, compute_model=model)
    solution = types.SimpleNamespace(actions=actions, strategy=strategy,
                                     efficacy_indicators=[])
    return run.schedule(strategy, solution)


def _execute(ordered):
    """Run ``ordered`` with Watcher's migrate action, waves in parallel.

    :returns: ``[(input parameters, result)]`` in the order run.
    """
    from watcher.applier.actions import migration

    def one(params):
        action = migration.Migrate(config=None)
        action.input_parameters = dict(params)
        action.pre_condition()
        return action.execute()

    done, results = set(), []
    while len(done) < len(ordered):
        wave = [k for k, action in enumerate(ordered) if k not in done
                and set(action['parents']) <= done]
        assert wave, 'the order has a cycle'
        with concurrent.futures.ThreadPoolExecutor(len(wave)) as pool:
            outcomes = list(pool.map(
                lambda k: one(ordered[k]['input_parameters']), wave))
        for k, outcome in zip(wave, outcomes):
            results.append((ordered[k]['input_parameters'], outcome))
            done.add(k)
        if not all(outcomes):
            break  # as the applier does: a failed action stops the plan
    return results


@pytest.fixture(scope='module')
def watcher_conf(real_nova):  # noqa: F811
    """Watcher's config (the decision engine's), loaded in this process."""
    from heatwatcher.snapshot import run
    run.configure(sandbox_watcher.config_file(real_nova.layout))


def test_weight_planner_order_is_refused_by_placement(swap, watcher_conf):
    sandbox, x, y = swap.sandbox, swap.x, swap.y
    ordered = _order('weight', swap.actions, _model_after(swap.actions))
    migrations = [action for action in ordered
                  if action['action_type'] == 'migrate']
    # Both migrations, no hop, in the first batch (no parents).
    assert len(migrations) == 2
    assert [action['parents'] for action in migrations] == [[], []]
    results = _execute(ordered)
    # Watcher's migrate action reports a refused live migration as a
    # false result (None or False): the applier fails the action.
    assert [bool(outcome) for _params, outcome in results] == [False] * 2
    servers = cloud.servers(sandbox)
    assert servers[x['uuid']] == x['host']
    assert servers[y['uuid']] == y['host']
    # Nova's reason: the scheduler found no host (no Placement candidate).
    for inst in (x, y):
        record, detail = helpers.last_live_migration(sandbox, inst['uuid'])
        assert record['Status'] == 'error', record
        reasons = ' '.join(str(event.get('details'))
                           for event in detail['events'])
        assert 'No valid host' in reasons, detail
    helpers.assert_allocations_follow_servers(
        sandbox, {x['uuid']: x['host'], y['uuid']: y['host']})


def test_heat_sequenced_order_executes_the_swap(swap, watcher_conf):
    sandbox, x, y = swap.sandbox, swap.x, swap.y
    ordered = _order('heat_sequenced', swap.actions,
                     _model_after(swap.actions))
    migrations = [action for action in ordered
                  if action['action_type'] == 'migrate']
    # One instance goes through a third host: three migrations.
    assert len(migrations) == 3, ordered
    hop = [action['input_parameters'] for action in migrations
           if action['input_parameters']['destination_node']
           not in (x['host'], y['host'])]
    assert len(hop) == 1, ordered
    results = _execute(ordered)
    assert [outcome for _params, outcome in results] == [True] * 3, results
    servers = cloud.servers(sandbox)
    assert servers[x['uuid']] == y['host']
    assert servers[y['uuid']] == x['host']
    # Placement refused nothing: each one's newest live migration
    # completed, and each allocation is on its new host only.
    for inst in (x, y):
        record, _detail = helpers.last_live_migration(sandbox, inst['uuid'])
        assert record['Status'] == 'completed', record
    helpers.assert_allocations_follow_servers(
        sandbox, {x['uuid']: y['host'], y['uuid']: x['host']})
