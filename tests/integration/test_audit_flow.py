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
"""Issue 13, points 2 to 4: an audit on the demo sample, the same snapshot
planned offline by ``heatwatcher plan``, the plan's execution through the
applier into the emulated Nova, a snapshot captured from the sandbox after
it, and a second audit that finds nothing left to move. The audit powers
the emptied hosts off (issue 16, point 1): they end disabled in Nova and
powered off in Ironic.

The tests of this module run in order and share the audit's results.
"""

import json
import os
import re
import time

import pytest

from heatwatcher.sandbox import control
from heatwatcher.sandbox import watcher as sandbox_watcher
from heatwatcher.snapshot import load as snapshot_load
from tests.integration import cloud
from tests.integration import conftest

# The solver is anytime under solver_time_limit (60 s by default): on a
# loaded 2-core machine the demo's MILP can reach that limit, and then the
# plan depends on the CPU time the process got. The limit the tests give
# it lets the solve finish on its own (about 25 s on a quiet machine).
SOLVER = 'solver_time_limit=600'
FIRST_AUDIT = ('idle_host_action=power_off', SOLVER)
# The feeder writes a point per series every STEP seconds: the capture and
# the audit read the same window when no new point comes between them.
STEP = 300
QUIET_SPAN = 150
# heatwatcher plan and the sandbox audit read the same Gnocchi series, but
# not at the same second: the capture's window and forecast horizon end
# when it runs, the audit's some 30 s later, so the planned loads differ by
# a fraction of a percent (heat rate before: 2049 W offline, 2053 W in the
# audit, in one CI run). Hosts at target, the first goal, is pinned by the
# bound and must match. On the demo the consolidation sits close to the
# capacity of one more host: that fraction of a percent decided whether 12
# or 13 hosts could be released (with 120 or 130 migrations). So released
# hosts may differ by one, and the migration count by the share below.
RELEASED_TOLERANCE = 1
MIGRATION_TOLERANCE = 0.15


@pytest.fixture(scope='module')
def flow():
    """Results shared by the tests of this module, in order."""
    return {}


def _capture(sandbox, name):
    """``heatwatcher snapshot`` of the sandbox into ``DIR/name``.

    As an operator would run it on a cloud: the decision engine's
    watcher.conf for the datasource.
    """
    path = os.path.join(sandbox.dir, name)
    sandbox.run(conftest._command('heatwatcher'), 'snapshot', '-o', path,
                '--window', '14d', '--config-file',
                sandbox_watcher.config_file(sandbox.layout), '-q')
    return path


def _audit_notes(sandbox, lines=40):
    """The last heat_consolidation lines of the decision engine's log."""
    path = sandbox.layout.log('watcher-decision-engine')
    try:
        with open(path, errors='replace') as log_file:
            notes = [line.rstrip() for line in log_file
                     if 'heat_consolidation' in line]
    except OSError as exc:
        return 'no decision engine log: %s' % exc
    return '\n'.join(notes[-lines:])


def _wait_for_a_quiet_span():
    """Sleep, if needed, until QUIET_SPAN s remain before the next step.

    Then the telemetry feeder writes nothing during the capture and the
    audit that follows it.
    """
    left = STEP - time.time() % STEP
    if left < QUIET_SPAN:
        time.sleep(left + 20)


def test_audit_succeeds_with_efficacy(sandbox, flow):
    # The snapshot for the offline plan, read from the same Gnocchi just
    # before the audit reads it.
    _wait_for_a_quiet_span()
    flow['captured_before'] = _capture(sandbox, 'captured-before.json.gz')
    started = time.monotonic()
    audit_uuid = cloud.create_audit(sandbox, 'integration-first', *FIRST_AUDIT)
    state = sandbox.wait_state('audit', audit_uuid, cloud.AUDIT_TIMEOUT)
    flow['audit_seconds'] = time.monotonic() - started
    assert state == 'SUCCEEDED', sandbox.openstack(
        'optimize', 'audit', 'show', audit_uuid)
    plan_uuid = cloud.action_plan(sandbox, audit_uuid)
    plan = sandbox.openstack('optimize', 'actionplan', 'show', plan_uuid)
    indicators = {item['name']: item['value']
                  for item in plan['Efficacy indicators']}
    assert indicators['instance_migrations_count'] > 0
    assert indicators['hosts_reaching_target_count'] > 0
    assert plan['Global efficacy'], plan
    flow['plan'] = plan_uuid
    flow['indicators'] = indicators
    flow['servers_before'] = cloud.servers(sandbox)


def test_offline_plan_matches_the_audit(sandbox, flow):
    if 'plan' not in flow:
        pytest.fail('no action plan from the first audit')
    options = []
    for parameter in FIRST_AUDIT:
        options += ['-p', parameter]
    result = sandbox.run(
        conftest._command('heatwatcher'), 'plan', flow['captured_before'],
        '--config-file', sandbox_watcher.config_file(sandbox.layout),
        '--format', 'json', '-q', *options)
    offline = json.loads(result.stdout)
    indicators = offline['efficacy_indicators']
    audit = flow['indicators']
    assert (indicators['hosts_reaching_target_count']
            == audit['hosts_reaching_target_count']), (indicators, audit)
    assert abs(indicators['released_compute_nodes_count']
               - audit['released_compute_nodes_count']) <= (
        RELEASED_TOLERANCE), (indicators, audit)
    offline_moves = cloud.migrations(offline['actions'])
    audit_moves = cloud.migrations(cloud.actions(sandbox, flow['plan']))
    assert abs(len(offline_moves) - len(audit_moves)) <= max(
        1, MIGRATION_TOLERANCE * len(audit_moves)), (
        len(offline_moves), len(audit_moves))
    # The captured snapshot holds Nova's placement: every offline move
    # starts where the instance is.
    sources = {cloud.parameters(action)['resource_id']:
               cloud.parameters(action)['source_node']
               for action in offline['actions']
               if cloud.kind(action) == 'migrate'}
    servers = flow['servers_before']
    assert sources == {uuid: servers[uuid] for uuid in sources}


def test_action_plan_execution_moves_the_instances(sandbox, flow):
    if 'plan' not in flow:
        pytest.fail('no action plan from the first audit')
    plan_uuid = flow['plan']
    actions = cloud.actions(sandbox, plan_uuid)
    started = time.monotonic()
    sandbox.openstack('optimize', 'actionplan', 'start', plan_uuid)
    state = sandbox.wait_state('actionplan', plan_uuid, cloud.PLAN_TIMEOUT)
    flow['execution_seconds'] = time.monotonic() - started
    assert state == 'SUCCEEDED', cloud.actions(sandbox, plan_uuid)
    expected_hosts = dict(flow['servers_before'])
    disabled, powered_off = set(), set()
    for action in actions:
        params = cloud.parameters(action)
        if cloud.kind(action) == 'migrate':
            expected_hosts[params['resource_id']] = params['destination_node']
        elif cloud.kind(action) == 'change_nova_service_state':
            if params.get('state') == 'disabled':
                disabled.add(params.get('resource_name')
                             or params['resource_id'])
        elif cloud.kind(action) == 'heatwatcher_node_power':
            assert params['state'] == 'off', params
            powered_off.add(params['resource_name'])
    assert cloud.servers(sandbox) == expected_hosts
    status = cloud.host_status(sandbox)
    assert disabled and {status[host] for host in disabled} == {'disabled'}
    emptied = set(flow['servers_before'].values()) - set(
        expected_hosts.values())
    assert emptied <= disabled
    # issue 16: every disabled host was powered off through Ironic, and
    # only those
    assert powered_off == disabled
    power = cloud.power_states(sandbox)
    assert {host for host, state in power.items()
            if state == 'power off'} == powered_off, power
    # heatwatcher snapshot, captured from the sandbox, sees the same cloud
    after = snapshot_load.load(_capture(sandbox, 'captured-after.json.gz'))
    assert {inst['uuid']: inst['host']
            for inst in after['instances']} == expected_hosts
    assert {host['name'] for host in after['hosts']
            if host['status'] == 'disabled'} == disabled


def test_second_audit_plans_no_migration(sandbox, flow):
    # By the second audit the telemetry feeder has written 12 to 17 minutes
    # of new points, so the loads planned on differ by a few percent. Two
    # causes made this test fail (24 migrations in one CI run), both
    # reproduced offline on the demo sample and fixed in the solver and
    # the hysteresis: see tests/unit/strategies/test_continuous_demo.py.
    # On failure the message carries the decision engine's notes.
    if 'execution_seconds' not in flow:
        pytest.fail('the first action plan was not executed')
    # The emulators send no notifications: wait for the decision engine
    # to rebuild its compute model from Nova.
    time.sleep(sandbox_watcher.MODEL_PERIOD * 2 + 5)
    audit_uuid = cloud.create_audit(sandbox, 'integration-second', SOLVER)
    state = sandbox.wait_state('audit', audit_uuid, cloud.AUDIT_TIMEOUT)
    assert state == 'SUCCEEDED'
    plans = sandbox.openstack('optimize', 'actionplan', 'list', '--audit',
                              audit_uuid)
    migrations = [action for plan in plans
                  for action in cloud.actions(sandbox, plan['UUID'])
                  if cloud.kind(action) == 'migrate']
    assert migrations == [], _audit_notes(sandbox)
    # The decision engine kept the first audit's history ([heatwatcher]
    # telemetry_cache): this audit read only what is new.
    notes = _audit_notes(sandbox)
    assert re.search(r'instance_cpu_usage: (\d+) of \1 instances from '
                     r'series kept since an earlier audit', notes), notes
    assert re.search(r'host_power: (\d+) of \1 hosts from series kept',
                     notes), notes


def test_audit_after_a_restart_resumes_the_saved_series(sandbox, flow):
    # The audits above saved their kept series in [heatwatcher] state_path
    # (the sandbox sets it): the decision engine, stopped and started
    # again by its recorded pid, resumes them instead of reading the
    # history whole.
    if 'execution_seconds' not in flow:
        pytest.fail('the first action plan was not executed')
    state_path = os.path.join(sandbox.layout.path('watcher'), 'state')
    saved = sorted(name for name in os.listdir(state_path)
                   if name.startswith('series-') and name.endswith('.npz'))
    assert len(saved) == 3, os.listdir(state_path)   # instances, 2 host
    engine = 'watcher-decision-engine'
    stopped = control.stop_service(sandbox.dir, engine)
    assert stopped is not None
    assert control.start_service(sandbox.dir, engine) != stopped
    audit_uuid = cloud.create_audit(sandbox, 'integration-restarted', SOLVER)
    state = sandbox.wait_state('audit', audit_uuid, cloud.AUDIT_TIMEOUT)
    notes = _audit_notes(sandbox)
    assert state == 'SUCCEEDED', notes
    for metric, what in (('instance_cpu_usage', 'instances'),
                         ('host_power', 'hosts'),
                         ('host_cpu_usage', 'hosts')):
        assert re.search(r'%s: \d+ series kept by an earlier decision '
                         r'engine process loaded from %s/series-'
                         % (metric, re.escape(state_path)), notes), notes
        assert re.search(r'%s: (\d+) of \1 %s from series kept' % (
            metric, what), notes), notes
