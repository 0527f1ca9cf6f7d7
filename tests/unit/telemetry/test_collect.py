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

import datetime
import unittest
from unittest import mock

import numpy as np
from watcher.decision_engine.model import element
from watcher.decision_engine.model import model_root

from heatwatcher.telemetry import collect
from heatwatcher.telemetry import series as telemetry_series
from heatwatcher import timestamps

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc)


def model(hosts):
    """``hosts``: list of (name, state, status, [instance uuids])."""
    m = model_root.ModelRoot()
    for k, (name, state, status, insts) in enumerate(hosts):
        node = element.ComputeNode(
            uuid='n%d' % k, hostname=name, vcpus=16, vcpu_reserved=0,
            vcpu_ratio=1.0, memory=32768, memory_mb_reserved=0,
            memory_ratio=1.0, disk=500, disk_gb_reserved=0, disk_ratio=1.0,
            state=state, status=status, disabled_reason=None)
        m.add_node(node)
        for uuid in insts:
            inst = element.Instance(
                uuid=uuid, name='vm-' + uuid, state='active', vcpus=2,
                memory=2048, disk=20, metadata={}, locked=False,
                project_id='aaaaaaaa-1111-2222-3333-444444444444')
            m.add_instance(inst)
            m.map_instance(inst, node)
    return m


def datasource(values):
    start = NOW - datetime.timedelta(hours=1)
    return telemetry_series.SeriesDataSource({'instance_cpu_usage': {
        uuid: telemetry_series.Series(start, 300, v) for uuid, v in
        values.items()}}, now=NOW)


class TestCollect(unittest.TestCase):

    def test_down_and_disabled_hosts_are_skipped_with_reason(self):
        m = model([('a', 'up', 'enabled', ['i1']),
                   ('b', 'down', 'enabled', ['i2']),
                   ('c', 'up', 'disabled', ['i3'])])
        snap = collect.collect(m, datasource({'i1': [50] * 12}), 3600, 300)
        self.assertEqual(['a'], [h.name for h in snap.hosts])
        self.assertEqual(['i1'], [i.uuid for i in snap.instances])
        self.assertEqual({'b': 'state down, status enabled',
                          'c': 'state up, status disabled'},
                         snap.skipped_hosts)

    def test_mean_over_period_and_gaps(self):
        m = model([('a', 'up', 'enabled', ['i1', 'i2', 'i3'])])
        ds = datasource({'i1': [10] * 6 + [30] * 6,
                         'i2': [None] * 11 + [40],
                         'i3': [None] * 12})
        snap = collect.collect(m, ds, 1800, 300)
        cpu = {i.uuid: i.cpu_percent for i in snap.instances}
        self.assertEqual({'i1': 30.0, 'i2': 40.0, 'i3': None}, cpu)
        self.assertEqual(['i3'], snap.missing_cpu)

    def test_garbage_values_are_reported_not_used(self):
        m = model([('a', 'up', 'enabled', ['i1', 'i2'])])
        ds = mock.Mock()
        ds.get_instance_cpu_usage.side_effect = [float('nan'), 250.0]
        snap = collect.collect(m, ds, 3600, 300)
        cpu = {i.uuid: i.cpu_percent for i in snap.instances}
        self.assertEqual({'i1': None, 'i2': 100.0}, cpu)
        self.assertIn('instance i1: instance_cpu_usage is nan', snap.notes)
        self.assertTrue(any('clamped' in n for n in snap.notes))

    def test_datasource_error_is_a_missing_value_with_a_note(self):
        m = model([('a', 'up', 'enabled', ['i1'])])
        ds = mock.Mock()
        ds.get_instance_cpu_usage.side_effect = RuntimeError('gnocchi 503')
        snap = collect.collect(m, ds, 3600, 300)
        self.assertIsNone(snap.instances[0].cpu_percent)
        self.assertIn('gnocchi 503', snap.notes[0])

    def test_series_datasource_aggregates_and_series(self):
        m = model([('a', 'up', 'enabled', ['i1'])])
        ds = datasource({'i1': list(range(12))})
        inst = m.get_instance_by_uuid('i1')
        self.assertEqual(11.0, ds.get_instance_cpu_usage(inst, 600, 'max',
                                                         300))
        self.assertEqual(2.0, ds.statistic_aggregation(
            inst, 'instance', 'instance_cpu_usage', 600, 'count', 300))
        series = ds.statistic_series(inst, 'instance', 'instance_cpu_usage',
                                     granularity=600)
        self.assertEqual(6, len(series))
        self.assertEqual(0.5, list(series.values())[0])
        self.assertIsNone(ds.get_host_power(m.get_node_by_name('a'), 600,
                                            'mean'))

    def test_baremetal_nodes_match_by_hypervisor_or_service_host(self):
        def node(nid, hv_name, svc):
            n = mock.Mock()
            n.get_id.return_value = nid
            n.get_hypervisor_node.return_value = mock.Mock(
                hypervisor_hostname=hv_name, service_host=svc)
            return n
        broken = mock.Mock()
        broken.get_hypervisor_node.side_effect = Exception('no hv')
        helper = mock.Mock()
        helper.list_compute_nodes.return_value = [
            node('x1', 'a.example', 'a'), node('x2', 'b', 'b'), broken]
        self.assertEqual({'a': 'x1', 'b': 'x2'},
                         collect.baremetal_nodes(helper, ['a', 'b', 'c']))


class TestInstanceSeries(unittest.TestCase):

    def test_in_memory_arrays_equal_its_statistic_series(self):
        m = model([('h1', 'up', 'enabled', ['a', 'b', 'c'])])
        start = NOW - datetime.timedelta(hours=2)
        ds = telemetry_series.SeriesDataSource({'instance_cpu_usage': {
            'a': telemetry_series.Series(start, 100, np.arange(72.0)),
            'b': telemetry_series.Series(
                start + datetime.timedelta(seconds=7), 60,
                [None, 3.0] * 60)}}, now=NOW)
        out, _, notes = collect.instance_series(ds, m, ['a', 'b', 'c'],
                                                5400, 300)
        self.assertEqual(['instance_cpu_usage: no data for 1 of 3 '
                          'instances'], notes)
        for uuid in ('a', 'b'):
            expected = timestamps.samples(ds.statistic_series(
                m.get_instance_by_uuid(uuid), 'instance',
                'instance_cpu_usage', NOW - datetime.timedelta(seconds=5400),
                NOW, 300))
            self.assertEqual(18, len(expected))
            np.testing.assert_array_equal(expected.times, out[uuid].times)
            np.testing.assert_array_equal(expected.values, out[uuid].values)

    def test_percent_series_from_a_series_datasource(self):
        m = model([('h1', 'up', 'enabled', ['a', 'b'])])
        ds = datasource({'a': [50.0] * 12})
        out, end, notes = collect.instance_series(ds, m, ['a', 'b'], 3600,
                                                  300)
        self.assertEqual(NOW, end)
        self.assertEqual([50.0] * 12, out['a'].values.tolist())
        self.assertEqual(np.int64, out['a'].times.dtype)
        self.assertEqual(['instance_cpu_usage: no data for 1 of 2 '
                          'instances'], notes)

    def test_gnocchi_cumulative_cpu_time_becomes_percent(self):
        # Watcher's Gnocchi statistic_series returns the raw "cpu" counter
        # (ns); 2 vCPUs busy at 25 % use 0.5e9 ns per second.
        m = model([('h1', 'up', 'enabled', ['a'])])
        start = NOW - datetime.timedelta(hours=1)
        counter = {(start + datetime.timedelta(seconds=300 * k)).isoformat():
                   k * 300 * 0.5e9 for k in range(12)}
        # a reboot resets the counter: that interval gives no value
        last = (start + datetime.timedelta(seconds=300 * 12)).isoformat()
        counter[last] = 1e9
        # without a Gnocchi client there is no bulk read: per resource
        ds = mock.Mock(NAME='gnocchi', now=NOW, gnocchi=None)
        ds.statistic_series.return_value = counter
        out, _, notes = collect.instance_series(ds, m, ['a'], 3600, 300)
        self.assertEqual([], notes)
        self.assertEqual(11, len(out['a']))
        for value in out['a'].values:
            self.assertAlmostEqual(25.0, value)
        ds.statistic_series.assert_called_with(
            resource=m.get_instance_by_uuid('a'), resource_type='instance',
            meter_name='instance_cpu_usage',
            start_time=NOW - datetime.timedelta(hours=1), end_time=NOW,
            granularity=300)
