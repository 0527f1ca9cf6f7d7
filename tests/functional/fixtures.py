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
"""Fixtures the Watcher harness leaves to plugins: telemetry, Ironic."""

import datetime

import fixtures

from heatwatcher.telemetry import series as telemetry_series

NOW = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.timezone.utc)


class Telemetry(fixtures.Fixture):
    """Serve metric series through Watcher's datasource manager.

    Every strategy gets this datasource in place of Gnocchi.

    ``set_instance_cpu({uuid: percent})`` loads a constant hour of
    ``instance_cpu_usage`` samples (every 5 minutes) per instance.
    """

    def __init__(self):
        super().__init__()
        self.series = {}
        self.datasource = telemetry_series.SeriesDataSource(self.series,
                                                            now=NOW)
        self.calls = []

    def _setUp(self):
        def get_backend(manager, metrics):
            self.calls.append(list(metrics))
            return self.datasource
        self.useFixture(fixtures.MockPatch(
            'watcher.decision_engine.datasources.manager.DataSourceManager'
            '.get_backend', get_backend, autospec=False))

    def set_host_power(self, hostname, curve, samples=600, step=300):
        """Serve host telemetry that follows a power curve.

        ``host_cpu_usage`` sweeps 0..100 % and ``host_power`` follows
        ``curve`` (11 watts at 0, 10, ..., 100 % CPU).
        """
        import numpy as np
        start = NOW - datetime.timedelta(seconds=samples * step)
        util = (np.arange(samples) * 7) % 101
        watts = np.interp(util / 100.0, np.linspace(0, 1, 11), curve)
        self.series.setdefault('host_cpu_usage', {})[hostname] = \
            telemetry_series.Series(start, step, [float(u) for u in util])
        self.series.setdefault('host_power', {})[hostname] = \
            telemetry_series.Series(start, step, [float(w) for w in watts])

    def set_host_metric(self, metric, values, samples=12, step=300):
        """Constant ``{hostname: value}`` series of a host ``metric``."""
        start = NOW - datetime.timedelta(seconds=samples * step)
        per = self.series.setdefault(metric, {})
        for name, value in values.items():
            per[name] = telemetry_series.Series(start, step, [value] * samples)

    def set_instance_cycle(self, uuids, days=14, busy=(12, 14), low=10.0,
                           high=80.0):
        """Two weeks of ``instance_cpu_usage`` busy at the same hours daily.

        See :func:`tests.synthetic.daily_cycle`; the fixture's "now"
        is 12:00 UTC.
        """
        from tests import synthetic
        self.series.setdefault('instance_cpu_usage', {}).update(
            synthetic.daily_cycle(uuids, NOW, days, busy, low, high))

    def set_instance_cpu(self, percents, samples=12, step=300):
        start = NOW - datetime.timedelta(seconds=samples * step)
        per = self.series.setdefault('instance_cpu_usage', {})
        for uuid, pct in percents.items():
            per[uuid] = telemetry_series.Series(start, step, [pct] * samples)


class _Node:
    def __init__(self, uuid, compute_node_id):
        self.uuid = uuid
        self.extra = {'compute_node_id': compute_node_id}
        self.power_state = 'power on'
        self.maintenance = False


class _NodeAPI:
    def __init__(self, nodes):
        self.nodes = nodes
        self.power_calls = []

    def list(self):
        return list(self.nodes.values())

    def get(self, uuid):
        return self.nodes[uuid]

    def set_power_state(self, uuid, state):
        self.power_calls.append((uuid, state))
        self.nodes[uuid].power_state = 'power %s' % state


class FakeIronicClient:
    """The part of python-ironicclient Watcher's IronicHelper uses."""

    def __init__(self, nodes):
        self.node = _NodeAPI(nodes)


class Ironic(fixtures.Fixture):
    """One bare metal node per compute node, powered on.

    :param compute_nodes: topology ``ComputeNode`` objects; node ids are
        ``ironic-<hostname>``.
    """

    def __init__(self, compute_nodes):
        super().__init__()
        self.client = FakeIronicClient({
            'ironic-%s' % cn.hostname: _Node('ironic-%s' % cn.hostname,
                                             cn.uuid)
            for cn in compute_nodes})

    def _setUp(self):
        self.useFixture(fixtures.MockPatch(
            'watcher.common.clients.OpenStackClients.ironic',
            lambda osc: self.client, autospec=False))
