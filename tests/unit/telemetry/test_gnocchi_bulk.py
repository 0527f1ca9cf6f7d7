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
"""Bulk reads through a fake gnocchiclient that records its requests.

The fake answers both Watcher's per-resource calls (resource search with
``limit=1``, ``metric.get_measures`` with datetimes, as gnocchiclient
converts them) and the aggregates API (text timestamps, grouped by id) as
Gnocchi 4.7's API does (checked against the sandbox's Gnocchi): resources
without the metric are left out of the answer, a request none of whose
resources has it is answered 404 "Metric ... does not exist", a metric
without measures processed yet (a ``None`` series here) answers an empty
series, and a request is refused whole when one resource's metric has an
archive policy without the granularity (400) or the aggregation (404).
"""

import datetime
import gc
import json
import re
import threading
import types
import unittest
from unittest import mock
import urllib.parse

from gnocchiclient import exceptions as gnocchi_exceptions
import numpy as np
from watcher import conf  # noqa: F401  (registers watcher_datasources)
from watcher.decision_engine.datasources import gnocchi

from heatwatcher import exception
from heatwatcher.forecast import history
from heatwatcher.telemetry import collect
from heatwatcher.telemetry import gnocchi_bulk
from tests.unit import telemetry as telemetry_tests
from tests.unit.telemetry import test_collect

UTC = datetime.timezone.utc
END = datetime.datetime(2026, 1, 1, 12, tzinfo=UTC)


class FakeGnocchi:
    """gnocchiclient's surface used by Watcher and :mod:`gnocchi_bulk`.

    :param resources: list of ``{'id', 'original_resource_id', 'metrics':
        {name: [(epoch s, value), ...]}}`` in Gnocchi's default order; a
        series ``None`` is a metric without measures processed yet; an
        optional ``'policies': {name: (granularities, aggregations)}``
        replaces the archive policy of every metric, ``((300,), ('mean',
        'rate:mean'))``.
    """

    def __init__(self, resources):
        self.resources = resources
        self.requests = []
        self.fail_aggregates = None
        self.fail_search = None
        self.resource = types.SimpleNamespace(search=self._search)
        self.metric = types.SimpleNamespace(get_measures=self._measures)
        self.api = types.SimpleNamespace(post=self._post)

    def kinds(self):
        return [request[0] for request in self.requests]

    def _search(self, resource_type='generic', query=None, details=False,
                history=False, limit=None, marker=None, sorts=None):
        self.requests.append(('search', query, limit, marker))
        if self.fail_search:
            raise self.fail_search
        operator, condition = next(iter(query.items()))
        field, wanted = next(iter(condition.items()))
        wanted = set(wanted) if operator == 'in' else {wanted}
        found = [resource for resource in self.resources
                 if resource[field] in wanted]
        if marker:
            ids = [resource['id'] for resource in found]
            found = found[ids.index(marker) + 1:]
        return [{'id': resource['id'],
                 'original_resource_id': resource['original_resource_id'],
                 'metrics': {name: self.metric_id(resource, name)
                             for name in resource['metrics']}}
                for resource in found[:limit]]

    @staticmethod
    def metric_id(resource, name):
        return 'metric-%s-%s' % (resource['id'], name)

    def _by_id(self, resource_id):
        for resource in self.resources:
            if resource['id'] == resource_id:
                return resource
        raise gnocchi_exceptions.NotFound(404)

    @staticmethod
    def _aggregated(points, aggregation):
        if aggregation == 'rate:mean':   # change from the previous point
            return [(seconds, value - previous) for (seconds, value), (
                _, previous) in zip(points[1:], points)]
        return points

    @staticmethod
    def _resampled(points, method, period):
        """Gnocchi's ``resample``: one value a period, at its start."""
        buckets = {}
        for seconds, value in points:
            buckets.setdefault(seconds // period * period, []).append(value)
        reduce = {'min': min, 'mean': lambda values: sum(values) / len(
            values)}[method]
        return [(start, reduce(values))
                for start, values in sorted(buckets.items())]

    def _measures(self, metric, start=None, stop=None, resource_id=None,
                  granularity=None, aggregation='mean', **kwargs):
        self.requests.append(('measures', resource_id, metric))
        points = self._by_id(resource_id)['metrics'].get(metric)
        if points is None:    # no metric, or no measures processed yet
            raise gnocchi_exceptions.NotFound(404)
        return [(datetime.datetime.fromtimestamp(seconds, UTC), granularity,
                 value) for seconds, value in self._aggregated(points,
                                                               aggregation)]

    def _post(self, url, headers=None, data=None):
        path, _, query = url.partition('?')
        params = urllib.parse.parse_qs(query)
        body = json.loads(data)
        self.requests.append(('aggregates', path, params, body))
        if self.fail_aggregates:
            raise self.fail_aggregates
        method, period, meter, aggregation = re.fullmatch(
            r'(?:\(resample (\S+) (\d+) )?\(metric (\S+) ([^\s)]+)\)\)?',
            body['operations']).groups()
        granularity = float(params['granularity'][0])
        groups = []
        for resource in sorted(self.resources, key=lambda r: r['id']):
            if resource['id'] not in body['search']['in']['id']:
                continue
            if meter not in resource['metrics']:
                continue
            granularities, aggregations = resource.get('policies', {}).get(
                meter, ((300,), ('mean', 'rate:mean')))
            if aggregation not in aggregations:
                raise gnocchi_exceptions.NotFound(404, {
                    'cause': 'Metrics with unknown aggregation',
                    'detail': [[self.metric_id(resource, meter),
                                aggregation]]})
            if granularity not in granularities:
                raise gnocchi_exceptions.BadRequest(400, {
                    'cause': 'Metrics cannot be aggregated',
                    'reason': 'Granularities are missing',
                    'detail': [[meter, aggregation, granularity]]})
            series = self._aggregated(resource['metrics'][meter] or [],
                                      aggregation)
            if method:
                series = self._resampled(series, method, int(period))
            points = [[datetime.datetime.fromtimestamp(
                seconds, UTC).isoformat(), float(period or granularity),
                value] for seconds, value in series]
            groups.append({'group': {'id': resource['id']}, 'measures': {
                'measures': {resource['id']: {meter: {aggregation: points}}}}})
        if not groups:
            raise gnocchi_exceptions.MetricNotFound(
                404, "Metric ['%s'] does not exist" % meter)
        return types.SimpleNamespace(json=lambda: groups)


def points(rng, count=24, counter=False):
    seconds = END.timestamp() - 300 * np.arange(count)[::-1]
    values = (np.cumsum(rng.uniform(0, 3e11, count)) if counter
              else rng.uniform(0, 50, count))
    return list(zip(seconds.tolist(), values.tolist()))


def datasource(fake):
    return gnocchi.GnocchiHelper(osc=mock.Mock(gnocchi=lambda: fake))


class TestGnocchiBulk(telemetry_tests.SameSeriesMixin, unittest.TestCase):

    def setUp(self):
        self.rng = np.random.default_rng(3)
        self.uuids = ['c0000000-0000-4000-8000-%012d' % index
                      for index in range(9)]
        self.model = test_collect.model([
            ('h1', 'up', 'enabled', self.uuids[:5]),
            ('h2', 'up', 'enabled', self.uuids[5:])])
        resources = [{'id': uuid, 'original_resource_id': uuid,
                      'metrics': {'cpu': points(self.rng, counter=True)}}
                     for uuid in self.uuids[:-1]]
        # the last instance has no cpu metric: no data, not a failed request
        resources.append({'id': self.uuids[-1],
                          'original_resource_id': self.uuids[-1],
                          'metrics': {'memory': points(self.rng)}})
        # hosts: found by original_resource_id, the first match only
        for name, ids in (('h1', ('f1', 'f0')), ('h2', ('f2',))):
            for gnocchi_id in ids:
                resources.append({
                    'id': gnocchi_id,
                    'original_resource_id': '%s_%s' % (name, name),
                    'metrics': {
                        'hardware.ipmi.node.power': points(self.rng),
                        'hardware.ipmi.node.airflow': points(self.rng)}})
        self.fake = FakeGnocchi(resources)
        self.datasource = datasource(self.fake)

    def per_resource(self, resources, resource_type, metric):
        start = END - datetime.timedelta(hours=2)
        return collect._read_series(self.datasource, resources,
                                    resource_type, metric, start, END, 300,
                                    'things')[0]

    def test_instances_read_in_bulk_equal_watcher_per_resource(self):
        with mock.patch.object(collect, '_now', return_value=END):
            bulk, _, notes = collect.instance_series(
                self.datasource, self.model, self.uuids, 7200, 300)
        # instances are read by uuid: no resource search
        self.assertEqual(['aggregates'], self.fake.kinds())
        self.assertEqual(['instance_cpu_usage: read in bulk from Gnocchi '
                          '(aggregates API, 1 request for 9 instances)',
                          'instance_cpu_usage: no data for 1 of 9 '
                          'instances'], notes)
        resources = {uuid: self.model.get_instance_by_uuid(uuid)
                     for uuid in self.uuids}
        expected = {uuid: collect.as_cpu_percent(self.datasource, series, 2)
                    for uuid, series in self.per_resource(
                        resources, 'instance', 'instance_cpu_usage').items()}
        self.assertEqual(8, len(expected))
        self.assertSameSeries(expected, bulk)

    def test_hosts_found_by_original_resource_id_as_watcher_does(self):
        with mock.patch.object(collect, '_now', return_value=END):
            bulk, _, notes = collect.host_series(
                self.datasource, self.model, ['h1', 'h2'],
                ['host_power', 'host_airflow'], 7200, 300)
        self.assertNotIn('measures', self.fake.kinds())
        nodes = {name: self.model.get_node_by_name(name)
                 for name in ('h1', 'h2')}
        for metric in ('host_power', 'host_airflow'):
            self.assertSameSeries(
                self.per_resource(nodes, 'compute_node', metric),
                bulk[metric])
        # h1's first match (f1) is read, as Watcher's limit=1 search does
        ids = [request[3]['search']['in']['id']
               for request in self.fake.requests
               if request[0] == 'aggregates']
        self.assertEqual([['f1', 'f2'], ['f1', 'f2']], ids)
        self.assertIn('host_airflow: read in bulk from Gnocchi (aggregates '
                      'API, 2 requests for 2 hosts)', notes)

    def test_requests_are_chunked_and_formed_as_the_api_expects(self):
        resources = {uuid: self.model.get_instance_by_uuid(uuid)
                     for uuid in self.uuids}
        start = END - datetime.timedelta(hours=2)
        # 25 points per series, at most 75 points: 3 ids per request
        per, notes = gnocchi_bulk.read(
            self.datasource, resources, 'instance', 'instance_cpu_usage',
            start, END, 300, 'instances', max_ids=4, max_points=75)
        fetches = [request for request in self.fake.requests
                   if request[0] == 'aggregates']
        self.assertEqual(len(fetches), len(self.fake.requests))
        # requests run concurrently: they may be recorded in any order
        self.assertEqual([3, 3, 3], sorted(
            len(request[3]['search']['in']['id']) for request in fetches))
        self.assertEqual(sorted(self.uuids), sorted(
            uuid for request in fetches
            for uuid in request[3]['search']['in']['id']))
        path, params, body = fetches[0][1:]
        self.assertEqual('v1/aggregates', path)
        self.assertEqual({'start': [start.isoformat()],
                          'stop': [END.isoformat()], 'granularity': ['300'],
                          'needed_overlap': ['0'], 'groupby': ['id'],
                          'details': ['false']}, params)
        self.assertEqual({'resource_type': 'generic',
                          'operations': '(metric cpu mean)'},
                         {key: body[key] for key in ('resource_type',
                                                     'operations')})
        self.assertEqual(8, len(per))
        self.assertIn('3 requests', notes[0])

    def test_host_search_reads_every_page(self):
        nodes = {name: self.model.get_node_by_name(name)
                 for name in ('h1', 'h2')}
        start = END - datetime.timedelta(hours=2)
        with mock.patch.object(gnocchi_bulk, 'SEARCH_PAGE', 1):
            per, notes = gnocchi_bulk.read(
                self.datasource, nodes, 'compute_node', 'host_power',
                start, END, 300, 'hosts')
        searches = [request for request in self.fake.requests
                    if request[0] == 'search']
        # pages of one resource: f1, f0, f2, then an empty page
        self.assertEqual([None, 'f1', 'f0', 'f2'],
                         [request[3] for request in searches])
        self.assertEqual({1}, {request[2] for request in searches})
        self.assertSameSeries(
            self.per_resource(nodes, 'compute_node', 'host_power'), per)
        self.assertIn('5 requests for 2 hosts', notes[0])

    def test_a_chunk_without_the_metric_is_no_data_not_a_failure(self):
        # Gnocchi answers 404 "Metric ... does not exist" for the chunk of
        # the instance without a cpu metric alone
        start = END - datetime.timedelta(hours=2)
        bulk, notes = gnocchi_bulk.read(
            self.datasource, self.instances(), 'instance',
            'instance_cpu_usage', start, END, 300, 'instances', max_ids=1)
        self.assertEqual(['aggregates'], sorted(set(self.fake.kinds())))
        self.assertEqual(8, len(bulk))
        self.assertEqual(['instance_cpu_usage: read in bulk from Gnocchi '
                          '(aggregates API, 9 requests for 9 instances)',
                          'instance_cpu_usage: no data for 1 of 9 '
                          'instances'], notes)

    def test_resources_gnocchi_refuses_are_left_out_of_the_chunk(self):
        # uuids[2]: a cpu metric kept at 60 s only; uuids[5]: one without
        # rate:mean; uuids[3]: a new instance, no measures processed yet.
        # Each of the first two makes Gnocchi refuse a whole request.
        self.fake.resources[2]['policies'] = {'cpu': ((60,), ('mean',))}
        self.fake.resources[5]['policies'] = {'cpu': ((300,), ('mean',))}
        self.fake.resources[3]['metrics']['cpu'] = None
        start = END - datetime.timedelta(hours=2)
        per, notes = gnocchi_bulk.read(
            self.datasource, self.instances(), 'instance',
            'instance_cpu_usage', start, END, 300, 'instances')
        readable = {uuid: instance for index, (uuid, instance) in
                    enumerate(self.instances().items())
                    if index not in (2, 3, 8)}
        self.assertSameSeries(self.per_resource(
            readable, 'instance', 'instance_cpu_usage'), per)
        # 9 ids, then halves down to uuids[2]: 0-3 (0-1, 2-3 (2, 3)), 4-8
        self.assertEqual([
            'instance_cpu_usage: read in bulk from Gnocchi (aggregates API, '
            '7 requests for 9 instances)',
            'instance_cpu_usage: 1 instances left out of the bulk read, '
            'whose metric Gnocchi cannot read at this granularity and '
            'aggregation (Metrics cannot be aggregated: Granularities are '
            'missing)',
            'instance_cpu_usage: no data for 3 of 9 instances'], notes)
        means, notes = gnocchi_bulk.instance_cpu_means(
            self.datasource, self.instances(), 3600, 300)
        self.assertEqual(sorted(set(readable) - {self.uuids[5]}),
                         sorted(means))
        self.assertEqual('instance_cpu_usage (mean): 2 instances left out '
                         'of the bulk read, whose metric Gnocchi cannot read '
                         'at this granularity and aggregation (Metrics with '
                         'unknown aggregation)', notes[1])

    def test_other_refusals_fail_the_bulk_read(self):
        def refuse(*args, **kwargs):
            raise gnocchi_exceptions.BadRequest(400, {
                'cause': 'Invalid operations', 'detail': []})
        self.fake.api.post = refuse
        start = END - datetime.timedelta(hours=2)
        with self.assertRaises(gnocchi_bulk.BulkReadFailed):
            gnocchi_bulk.read(self.datasource, self.instances(), 'instance',
                              'instance_cpu_usage', start, END, 300,
                              'instances')

    def instances(self):
        return {uuid: self.model.get_instance_by_uuid(uuid)
                for uuid in self.uuids}

    def post_when_two_are_in_flight(self):
        """Make each aggregates request wait until two are in flight.

        Requests sent one after the other break the barrier (after 30 s):
        the request fails with ``BrokenBarrierError``.
        """
        barrier = threading.Barrier(2, timeout=30)
        post = self.fake.api.post

        def post_when_two_are_waiting(*args, **kwargs):
            barrier.wait()
            return post(*args, **kwargs)

        self.fake.api.post = post_when_two_are_waiting

    def test_aggregates_requests_are_in_flight_together(self):
        # Each request waits until two are in flight: read one by one,
        # the barrier breaks and the bulk read fails.
        self.post_when_two_are_in_flight()
        start = END - datetime.timedelta(hours=2)
        with_cpu = {uuid: instance for uuid, instance in
                    self.instances().items() if uuid != self.uuids[-1]}
        per, _ = gnocchi_bulk.read(   # two requests of 4
            self.datasource, with_cpu, 'instance',
            'instance_cpu_usage', start, END, 300, 'instances', max_ids=4,
            max_points=100, concurrency=2)
        self.assertEqual(8, len(per))

    def test_host_metrics_are_read_at_the_same_time(self):
        # Each request waits until two are in flight: with the metrics
        # read one after the other (one request each), the barrier breaks,
        # both bulk reads fail and the hosts are read per resource.
        self.post_when_two_are_in_flight()
        with mock.patch.object(collect, '_now', return_value=END):
            bulk, _, notes = collect.host_series(
                self.datasource, self.model, ['h1', 'h2'],
                ['host_power', 'host_airflow'], 7200, 300)
        self.assertNotIn('measures', self.fake.kinds())
        self.assertEqual({'h1', 'h2'}, set(bulk['host_power']))
        self.assertEqual({'h1', 'h2'}, set(bulk['host_airflow']))
        # the notes in the order of the metrics asked for
        self.assertEqual(['host_power: read in bulk from Gnocchi (aggregates '
                          'API, 2 requests for 2 hosts)',
                          'host_airflow: read in bulk from Gnocchi '
                          '(aggregates API, 2 requests for 2 hosts)'], notes)

    def test_answers_are_parsed_with_the_collector_paused(self):
        collecting = []
        post = self.fake.api.post

        def post_recording_the_collector(*args, **kwargs):
            answer = post(*args, **kwargs)

            def parse():
                collecting.append(gc.isenabled())
                return answer.json()
            return types.SimpleNamespace(json=parse)

        self.fake.api.post = post_recording_the_collector
        self.assertTrue(gc.isenabled())
        per, _ = gnocchi_bulk.read(
            self.datasource, self.instances(), 'instance',
            'instance_cpu_usage', END - datetime.timedelta(hours=2), END,
            300, 'instances', max_ids=4)
        self.assertEqual(8, len(per))
        # three requests; the third (the instance without cpu) answers 404
        self.assertEqual([False, False], collecting)
        self.assertTrue(gc.isenabled())

    def test_failed_request_cancels_those_not_sent(self):
        self.fake.fail_aggregates = gnocchi_exceptions.ClientException(
            503, 'Service Unavailable')
        start = END - datetime.timedelta(hours=2)
        with self.assertRaises(gnocchi_bulk.BulkReadFailed):
            # 8 chunks of one resource, one request at a time
            gnocchi_bulk.read(self.datasource, self.instances(), 'instance',
                              'instance_cpu_usage', start, END, 300,
                              'instances', max_ids=1, concurrency=1)
        self.assertEqual(1, self.fake.kinds().count('aggregates'))

    def test_failed_bulk_read_falls_back_per_resource_with_a_note(self):
        self.fake.fail_aggregates = gnocchi_exceptions.ClientException(
            503, 'Service Unavailable')
        with mock.patch.object(collect, '_now', return_value=END):
            out, _, notes = collect.instance_series(
                self.datasource, self.model, self.uuids, 7200, 300)
        self.assertIn('measures', self.fake.kinds())
        self.assertEqual(8, len(out))
        self.assertTrue(notes[0].startswith(
            'instance_cpu_usage: bulk read from Gnocchi failed: '
            'ClientException: '), notes)
        self.assertTrue(notes[0].endswith(
            '; read per resource instead (9 requests)'), notes)

    def test_other_datasources_are_read_per_resource(self):
        self.datasource.NAME = 'prometheus'
        with mock.patch.object(collect, '_now', return_value=END):
            out, _, notes = collect.instance_series(
                self.datasource, self.model, self.uuids, 7200, 300)
        self.assertNotIn('aggregates', self.fake.kinds())
        self.assertEqual(['instance_cpu_usage: no data for 1 of 9 '
                          'instances'], notes)

    def test_slot_resampled_history_gives_the_full_slot_means(self):
        # 4 hours of 5-minute counters, a 2-hour window: every slot in the
        # window has its first sample
        for resource in self.fake.resources[:len(self.uuids) - 1]:
            resource['metrics']['cpu'] = points(self.rng, count=48,
                                                counter=True)
        uuids = self.uuids[:-1]

        def history_of(slot):
            with mock.patch.object(collect, '_now', return_value=END):
                series, end, notes = collect.instance_series(
                    self.datasource, self.model, uuids, 7200, 300,
                    slot=slot)
            return history.matrix(series, uuids, end, window=7200,
                                  step=300, slot_minutes=20,
                                  horizon=1), notes

        full, _ = history_of(None)
        self.fake.requests.clear()
        resampled, notes = history_of(1200)
        operations = {request[3]['operations']
                      for request in self.fake.requests
                      if request[0] == 'aggregates'}
        self.assertEqual({'(resample min 1200 (metric cpu mean))'},
                         operations)
        self.assertIn('resampled by Gnocchi to 1200 s (min)', notes[0])
        self.assertEqual(full.now, resampled.now)
        self.assertEqual(6 * len(uuids), np.isfinite(full.y).sum())
        np.testing.assert_allclose(full.y, resampled.y, rtol=1e-12)

    def test_measured_load_in_bulk_equals_watcher_per_instance(self):
        bulk = collect.collect(self.model, self.datasource, 3600, 300)
        self.assertNotIn('measures', self.fake.kinds())
        self.assertEqual(['instance_cpu_usage (mean): read in bulk from '
                          'Gnocchi (aggregates API, 1 request for 9 '
                          'instances)'], bulk.notes)
        self.datasource.NAME = 'not gnocchi'          # Watcher's own calls
        expected = collect.collect(self.model, self.datasource, 3600, 300)
        self.assertIn('measures', self.fake.kinds())
        measured = [instance.cpu_percent for instance in bulk.instances]
        self.assertEqual([instance.cpu_percent
                          for instance in expected.instances], measured)
        self.assertEqual(1, measured.count(None))
        self.assertTrue(all(value > 0 for value in measured if value))

    def test_measured_load_falls_back_per_instance_with_a_note(self):
        self.fake.fail_aggregates = gnocchi_exceptions.ClientException(
            503, 'Service Unavailable')
        snapshot = collect.collect(self.model, self.datasource, 3600, 300)
        self.assertTrue(snapshot.notes[0].startswith(
            'instance_cpu_usage (mean): bulk read from Gnocchi failed: '),
            snapshot.notes)
        self.assertTrue(snapshot.notes[0].endswith(
            'read per instance instead (9 requests)'), snapshot.notes)
        self.assertEqual(8, sum(instance.cpu_percent is not None
                                for instance in snapshot.instances))

    def test_unreachable_gnocchi_fails_at_once_naming_it(self):
        # Per resource, Watcher would retry every read query_max_retries
        # times: an audit would stay ONGOING for an hour on a dead Gnocchi.
        self.fake.fail_aggregates = gnocchi_exceptions.ConnectionFailure(
            message='Unable to establish connection to '
                    'http://gnocchi:8041/v1/aggregates')
        self.fake.fail_search = self.fake.fail_aggregates   # the probe
        for read in (
                lambda: collect.collect(self.model, self.datasource, 3600,
                                        300),
                lambda: collect.instance_series(
                    self.datasource, self.model, self.uuids, 7200, 300)):
            with self.assertRaises(exception.TelemetryUnreachable) as caught:
                read()
            self.assertIn('telemetry unreachable: the gnocchi datasource '
                          'does not answer (ConnectionFailure: ',
                          str(caught.exception))
        self.assertNotIn('measures', self.fake.kinds())

    def test_connection_lost_under_a_request_falls_back_if_gnocchi_answers(
            self):
        # uWSGI's router closes a connection whose request outlives its
        # HTTP timeout: Gnocchi still answers, so read per resource.
        from keystoneauth1 import exceptions as ks_exceptions
        self.fake.fail_aggregates = ks_exceptions.ConnectFailure(
            'Unable to establish connection to http://gnocchi:8041/v1/'
            'aggregates: Remote end closed connection without response')
        got = collect.instance_series(self.datasource, self.model,
                                      self.uuids, 7200, 300)
        self.assertIn('measures', self.fake.kinds())
        self.assertEqual(('search', {'=': {'id': gnocchi_bulk.PROBE_ID}}, 1,
                          None), self.fake.requests[1])
        note = got[2][0]
        self.assertIn('bulk read from Gnocchi failed: connection lost '
                      'during a request while Gnocchi still answers '
                      '(ConnectFailure: Unable to establish connection',
                      note)
        self.assertEqual(8, len(got[0]))

    def test_snapshot_capture_reads_in_bulk(self):
        from heatwatcher.snapshot import capture
        instances = {uuid: types.SimpleNamespace(uuid=uuid, vcpus=2)
                     for uuid in self.uuids}
        messages = []
        start = END - datetime.timedelta(hours=2)
        got = capture._metric_series(
            self.datasource, instances, 'instance', 'instance_cpu_usage',
            start, END, 300, messages.append)
        self.assertEqual(['aggregates'], sorted(set(
            self.fake.kinds()) - {'search'}))
        self.assertIn('read in bulk from Gnocchi', messages[0])
        self.assertEqual(8, len(got))
        counter = {stamp: value for stamp, _, value in self.fake._measures(
            'cpu', resource_id=self.uuids[0], granularity=300)}
        expected = collect.cpu_percent_series(counter, 2)
        values = got[self.uuids[0]]['values']
        self.assertEqual(24, len(values))
        self.assertEqual(expected.values.tolist(), values[1:24])
        self.assertEqual([None], values[:1])


class TestCollectorPause(unittest.TestCase):

    def setUp(self):
        self.addCleanup(gc.enable)

    def test_resumed_when_the_last_parse_ends(self):
        pause = gnocchi_bulk._CollectorPause()
        first_in = threading.Event()
        first_may_end = threading.Event()

        def first():
            with pause.paused():
                first_in.set()
                first_may_end.wait(10)

        thread = threading.Thread(target=first)
        thread.start()
        self.assertTrue(first_in.wait(10))
        with pause.paused():   # a second parse, ending before the first
            self.assertFalse(gc.isenabled())
        self.assertFalse(gc.isenabled())
        first_may_end.set()
        thread.join(10)
        self.assertTrue(gc.isenabled())

    def test_a_collector_off_before_stays_off(self):
        gc.disable()
        with gnocchi_bulk._CollectorPause().paused():
            self.assertFalse(gc.isenabled())
        self.assertFalse(gc.isenabled())
