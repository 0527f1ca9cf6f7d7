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
"""Issue 13, point 5, and issue 16, point 3: thermal_shedding on Gnocchi.

The inlet temperatures of the hot zone (``a-*``) are written into Gnocchi
above T1, as Ceilometer would (``hardware.ipmi.node.temperature`` on the
``host`` resources ``<hostname>_<hostname>``); the audit sheds the
lowest-ranked hosts, and its plan evacuates, disables and powers them off.
Cooler measures (newer timestamps) are then written: the next audit powers
them up again, in reverse rank order, and its plan ends SUCCEEDED with the
nodes on in Ironic and the services enabled.

The module changes the placement (the evacuations) and leaves it so: it
runs after test_audit_flow. The tests run in order and share their results.
"""

import datetime
import time
import uuid

import pytest

from heatwatcher.sandbox import gnocchi
from heatwatcher.sandbox import keystone
from heatwatcher.sandbox import telemetry
from heatwatcher.sandbox import watcher as sandbox_watcher
from tests.integration import cloud

AUDIT_TIMEOUT = 600
PLAN_TIMEOUT = 900
UTC = datetime.timezone.utc
STEP = 300            # the archive policy's granularity
HOT_ZONE, COOL_ZONE = 'a-*', 'b-*'
T1, T2, T3 = 40.0, 37.0, 34.0
HOT, COOL, COOL_ZONE_TEMPERATURE = 42.0, 25.0, 22.0
HOST_WATTS = 200.0    # idle = max: every host's heat is exactly this
WATTS_PER_DEGREE = 70.0
# (HOT - T2) x 70 = 350 W to shed: two hosts of 200 W, not one.
EXPECTED_SHED = 2
# Only the vCPUs of a host's instances count in its rank (a cost): the
# hosts with the fewest are shed first, ties broken by name.
WEIGHTS = {'weight_%s' % name: 0 for name in (
    'instances', 'uptime', 'cpu', 'priority', 'project', 'redundancy',
    'heat', 'zone_heat')}
WEIGHTS['weight_size'] = 1


@pytest.fixture(scope='module')
def shedding(sandbox):
    """Results shared by the tests of this module, in order.

    The module starts from the snapshot's placement, whatever the modules
    before it executed (a consolidation plan leaves no room to evacuate
    the hot zone into).
    """
    cloud.restore_snapshot_cloud(sandbox)
    return {}


def _metric():
    """The Gnocchi metric Watcher reads ``host_inlet_temp`` from."""
    return telemetry.metric_map()['host_inlet_temp']


def _session(sandbox):
    return keystone.admin_session(sandbox.layout)


def _iso(seconds):
    return datetime.datetime.fromtimestamp(seconds, UTC).isoformat()


def _clear_temperatures(sandbox, hosts):
    """Delete the inlet temperature metric of ``hosts`` (a rerun's)."""
    sess = _session(sandbox)
    url = sandbox.layout.url('gnocchi', '/v1')
    for host in hosts:
        response = sess.get('%s/resource/host/%s_%s' % (url, host, host),
                            raise_exc=False)
        assert response.status_code == 200, response.text
        metric_id = response.json()['metrics'].get(_metric())
        if metric_id:
            sess.delete('%s/metric/%s' % (url, metric_id))


def _write_temperatures(sandbox, temperatures, start, stop, step=60):
    """Post ``{host: degC}`` every ``step`` s in [start, stop).

    As Ceilometer's Gnocchi publisher does: one batch, on the host
    resources' original ids, metrics created on the fly. Returns once
    gnocchi-metricd has aggregated them.
    """
    sess = _session(sandbox)
    stamps = range(int(start), int(stop), step)
    body = {}
    for host, value in temperatures.items():
        body['%s_%s' % (host, host)] = {_metric(): {
            'archive_policy_name': gnocchi.ARCHIVE_POLICY['name'],
            'measures': [{'timestamp': _iso(stamp), 'value': value}
                         for stamp in stamps]}}
    response = sess.post(
        sandbox.layout.url('gnocchi', '/v1/batch/resources/metrics/measures'
                                      '?create_metrics=true'),
        json=body, raise_exc=False)
    assert response.status_code == 202, response.text
    telemetry.wait_processed(sandbox.layout, sess, timeout=300)


def _parameters(**extra):
    values = dict(
        temperature_metric='host_inlet_temp',
        thermal_zones='{"hot": ["%s"], "cool": ["%s"]}' % (
            HOT_ZONE, COOL_ZONE),
        trigger_temperature=T1, clear_temperature=T2,
        power_up_temperature=T3, watts_per_degree=WATTS_PER_DEGREE,
        default_idle_power=HOST_WATTS, default_max_power=HOST_WATTS,
        max_power_up_per_run=EXPECTED_SHED,
        # the window reaches back over the hot measures, whenever it runs;
        # Watcher's Gnocchi datasource takes the latest point in it
        period=3600, **WEIGHTS)
    values.update(extra)
    return ['%s=%s' % item for item in sorted(values.items())]


def _audit(sandbox, name):
    """A thermal_shedding audit, run to its end: (uuid, state).

    Audit names are unique: a suffix keeps a reused sandbox usable.
    """
    name = '%s-%s' % (name, uuid.uuid4().hex[:6])
    options = []
    for parameter in _parameters():
        options += ['-p', parameter]
    audit = sandbox.openstack(
        'optimize', 'audit', 'create', '-g', 'thermal_event_mitigation',
        '-s', 'thermal_shedding', '--name', name, *options)
    return audit['UUID'], sandbox.wait_state('audit', audit['UUID'],
                                             AUDIT_TIMEOUT)


def _model(sandbox):
    """The decision engine's model: {host: [instance vCPUs]}.

    An empty host is one row without a server.
    """
    hosts = {}
    for row in sandbox.openstack('optimize', 'datamodel', 'list',
                                 '--detail'):
        vcpus = hosts.setdefault(row['Node Host Name'], [])
        if row['Server Name'] is not None:
            vcpus.append(row['Server Vcpus'])
    return hosts


def _enabled_hosts(sandbox):
    rows = sandbox.openstack('compute', 'service', 'list', '--service',
                             'nova-compute')
    return {row['Host'] for row in rows
            if row['Status'] == 'enabled' and row['State'] == 'up'}


def _expected_rank(sandbox, hot_hosts):
    """The hot zone's active hosts in shedding order, as documented."""
    model = _model(sandbox)
    return sorted(hot_hosts, key=lambda host: (sum(model.get(host, [])),
                                               host))


def _plan_actions(sandbox, audit_uuid):
    plans = sandbox.openstack('optimize', 'actionplan', 'list', '--audit',
                              audit_uuid)
    assert len(plans) == 1, plans
    plan_uuid = plans[0]['UUID']
    return plan_uuid, cloud.actions(sandbox, plan_uuid)


def _by_kind(actions, kind):
    return [cloud.parameters(action) for action in actions
            if cloud.kind(action) == kind]


def _execute(sandbox, plan_uuid):
    sandbox.openstack('optimize', 'actionplan', 'start', plan_uuid)
    state = sandbox.wait_state('actionplan', plan_uuid, PLAN_TIMEOUT)
    assert state == 'SUCCEEDED', cloud.actions(sandbox, plan_uuid)


def _wait_model(sandbox, check, what):
    """Wait for the decision engine's rebuilt model (no notifications)."""
    deadline = time.monotonic() + sandbox_watcher.MODEL_PERIOD * 4
    while time.monotonic() < deadline:
        if check(_model(sandbox)):
            return
        time.sleep(5)
    pytest.fail('the decision engine model never showed %s' % what)


def test_hot_zone_sheds_the_lowest_ranked_hosts(sandbox, shedding):
    hosts = sorted(row['Hypervisor Hostname'] for row in
                   sandbox.openstack('hypervisor', 'list'))
    hot = [host for host in hosts if host.startswith(HOT_ZONE[:-1])]
    cool = [host for host in hosts if host.startswith(COOL_ZONE[:-1])]
    assert hot and cool, hosts
    _clear_temperatures(sandbox, hosts)
    now = time.time()
    block = now - now % STEP
    # up to the last full step: newer measures can then follow
    temperatures = dict.fromkeys(hot, HOT)
    temperatures.update(dict.fromkeys(cool, COOL_ZONE_TEMPERATURE))
    _write_temperatures(sandbox, temperatures, block - 3 * STEP, block)
    active_hot = sorted(_enabled_hosts(sandbox) & set(hot))
    rank = _expected_rank(sandbox, active_hot)
    audit_uuid, state = _audit(sandbox, 'thermal-hot')
    assert state == 'SUCCEEDED', sandbox.openstack(
        'optimize', 'audit', 'show', audit_uuid)
    plan_uuid, actions = _plan_actions(sandbox, audit_uuid)
    powered = _by_kind(actions, 'heatwatcher_node_power')
    shed = [params['resource_name'] for params in powered]
    assert {params['state'] for params in powered} == {'off'}, powered
    # the lowest-ranked hosts, in rank order, just enough to cover the
    # required reduction
    assert shed == rank[:EXPECTED_SHED], (shed, rank)
    disabled = _by_kind(actions, 'change_nova_service_state')
    assert sorted(params['resource_name'] for params in disabled) == sorted(
        shed)
    assert {(params['state'], params['disabled_reason'])
            for params in disabled} == {
        ('disabled', 'watcher_thermal_shedding')}
    model = _model(sandbox)
    migrations = _by_kind(actions, 'migrate')
    assert sorted(params['source_node'] for params in migrations) == sorted(
        host for host in shed for _ in model[host])
    # evacuated out of the hot zone
    assert {params['destination_node'] for params in migrations} <= set(
        cool)
    plan = sandbox.openstack('optimize', 'actionplan', 'show', plan_uuid)
    indicators = {item['name']: item['value']
                  for item in plan['Efficacy indicators']}
    assert indicators['hosts_powered_down_count'] == EXPECTED_SHED
    assert indicators['required_heat_reduction'] == (
        (HOT - T2) * WATTS_PER_DEGREE)
    assert indicators['hottest_zone_temperature'] == HOT
    shedding.update(plan=plan_uuid, shed=shed, rank=rank)


def test_shedding_plan_powers_the_hosts_off(sandbox, shedding):
    if 'plan' not in shedding:
        pytest.fail('no shedding plan from the hot audit')
    _execute(sandbox, shedding['plan'])
    shed = shedding['shed']
    power = cloud.power_states(sandbox)
    assert {host: power[host] for host in shed} == dict.fromkeys(
        shed, 'power off')
    assert not set(shed) & _enabled_hosts(sandbox)
    _wait_model(sandbox, lambda model: not any(model.get(host)
                                               for host in shed),
                'the shed hosts empty')
    shedding['executed'] = True


def test_cooler_zone_powers_the_shed_hosts_up(sandbox, shedding):
    if 'executed' not in shedding:
        pytest.fail('the shedding plan was not executed')
    shed = shedding['shed']
    hosts = shedding['rank']
    now = time.time()
    # newer than every hot measure (which ended at the previous step)
    _write_temperatures(sandbox, dict.fromkeys(hosts, COOL),
                        now - now % STEP, now + 1)
    audit_uuid, state = _audit(sandbox, 'thermal-cool')
    assert state == 'SUCCEEDED', sandbox.openstack(
        'optimize', 'audit', 'show', audit_uuid)
    plan_uuid, actions = _plan_actions(sandbox, audit_uuid)
    assert _by_kind(actions, 'migrate') == []
    powered = _by_kind(actions, 'heatwatcher_node_power')
    assert {params['state'] for params in powered} == {'on'}, powered
    # reverse rank order; emptied, the shed hosts tie and rank by name
    assert [params['resource_name'] for params in powered] == sorted(
        shed, reverse=True)
    enabled = _by_kind(actions, 'change_nova_service_state')
    assert sorted((params['resource_name'], params['state'])
                  for params in enabled) == sorted(
        (host, 'enabled') for host in shed)
    # issue 16, point 3: the plan runs, the nodes are on, services enabled
    _execute(sandbox, plan_uuid)
    power = cloud.power_states(sandbox)
    assert {host: power[host] for host in shed} == dict.fromkeys(
        shed, 'power on')
    assert set(shed) <= _enabled_hosts(sandbox)
