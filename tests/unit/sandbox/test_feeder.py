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
"""The telemetry feeder: the points it writes after the recorded history."""

import datetime
import unittest

from heatwatcher.sandbox import feeder as sandbox_feeder
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import telemetry

UTC = datetime.timezone.utc
STEP = 300
CAPTURED = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NOW = datetime.datetime(2026, 11, 23, 3, 7, 30, tzinfo=UTC)
INSTANCE = '11111111-2222-3333-4444-555555555555'


def _doc(days=8):
    count = days * 86400 // STEP
    start = CAPTURED - datetime.timedelta(seconds=count * STEP)

    def series(offset):
        return {'start': start.isoformat(), 'step': STEP,
                'values': [float((index + offset) % 97)
                           for index in range(count)]}
    return {
        'version': 1, 'captured_at': CAPTURED.isoformat(),
        'hosts': [{'name': 'a-01'}],
        'instances': [{'uuid': INSTANCE, 'name': 'vm-1', 'host': 'a-01',
                       'vcpus': 2}],
        'metrics': {'instance_cpu_usage': {INSTANCE: series(0)},
                    'host_cpu_usage': {'a-01': series(5)},
                    'host_power': {'a-01': series(11)}},
    }


class FakeSession:
    def __init__(self, status_code=202):
        self.posts = []
        self.status_code = status_code

    def post(self, url, json, raise_exc):
        self.posts.append((url, json))
        return type('Response', (), {'status_code': self.status_code,
                                     'text': 'refused'})()


class ReplayPeriodTest(unittest.TestCase):

    def test_a_week_of_history_replays_weekly(self):
        self.assertEqual(sandbox_feeder.WEEK,
                         sandbox_feeder.replay_period(_doc(8)))

    def test_less_than_a_week_replays_daily(self):
        self.assertEqual(sandbox_feeder.DAY,
                         sandbox_feeder.replay_period(_doc(2)))

    def test_less_than_a_day_is_refused(self):
        doc = _doc(2)
        doc['metrics']['host_power']['a-01']['values'] = [1.0] * 12
        with self.assertRaisesRegex(ValueError, 'at least a day'):
            sandbox_feeder.replay_period(doc)


class FeederTest(unittest.TestCase):

    def setUp(self):
        self.doc = _doc()
        self.shift = telemetry.time_shift(self.doc, NOW)
        self.feeder = sandbox_feeder.Feeder(self.doc, self.shift)
        self.names = telemetry.metric_map()
        self.written = {body['id']: measures for _, body, measures
                        in telemetry.resources(self.doc, self.shift)}

    def _source(self, metric, owner, stamp):
        """The snapshot's value a week before ``stamp`` (shifted time)."""
        series = self.doc['metrics'][metric][owner]
        start = datetime.datetime.fromisoformat(series['start'])
        index = int((stamp - self.shift - datetime.timedelta(days=7)
                     - start).total_seconds() // STEP)
        return series['values'][index]

    def test_first_stamp_follows_the_written_gauges(self):
        gauge = self.written['a-01_a-01'][self.names['host_power']]
        last = datetime.datetime.fromisoformat(gauge[-1]['timestamp'])
        self.assertEqual(last + datetime.timedelta(seconds=STEP),
                         self.feeder.next_stamp)

    def test_due_stamps_stop_at_now(self):
        later = NOW + datetime.timedelta(minutes=16)
        stamps = self.feeder.due(later)
        self.assertTrue(stamps)
        self.assertLessEqual(stamps[-1], later)
        self.assertGreater(self.feeder.next_stamp, later)
        self.assertEqual([], self.feeder.due(later))

    def test_gauges_replay_the_week_before(self):
        stamp = self.feeder.due(NOW + datetime.timedelta(minutes=6))[-1]
        batch = self.feeder.points(stamp)
        host = batch['a-01_a-01']
        self.assertEqual(
            [{'timestamp': stamp.isoformat(),
              'value': self._source('host_power', 'a-01', stamp)}],
            host[self.names['host_power']])
        self.assertEqual(self._source('host_cpu_usage', 'a-01', stamp),
                         host[self.names['host_cpu_usage']][0]['value'])

    def test_cpu_counter_keeps_counting(self):
        counter = self.written[INSTANCE][self.names['instance_cpu_usage']]
        last_stamp = datetime.datetime.fromisoformat(
            counter[-1]['timestamp'])
        # The counter's last point is one step after the gauges' last, so
        # the first stamp carries no counter point (it was written).
        first = self.feeder.due(last_stamp)
        self.assertEqual([last_stamp], first)
        self.assertNotIn(INSTANCE, self.feeder.points(last_stamp))
        stamp = self.feeder.due(last_stamp + datetime.timedelta(
            seconds=STEP))[0]
        point = self.feeder.points(stamp)[INSTANCE][
            self.names['instance_cpu_usage']][0]
        step_value = self._source('instance_cpu_usage', INSTANCE,
                                  stamp - datetime.timedelta(seconds=STEP))
        self.assertAlmostEqual(
            counter[-1]['value'] + step_value / 100.0 * 2 * STEP * 1e9,
            point['value'])

    def test_run_posts_one_batch_per_due_stamp(self):
        layout = sandbox_layout.Layout('/nonexistent', 26000, 'secret')
        session = FakeSession()
        sleeps = []
        clock = lambda: NOW + datetime.timedelta(minutes=11)  # noqa: E731
        sandbox_feeder.run(layout, self.feeder, session, sleep=sleeps.append,
                           clock=clock, rounds=1)
        self.assertEqual(3, len(session.posts))
        url, batch = session.posts[0]
        self.assertEqual('http://127.0.0.1:%d/v1/batch/resources/metrics/'
                         'measures' % layout.port('gnocchi'), url)
        self.assertIn('a-01_a-01', batch)
        self.assertEqual(1, len(sleeps))
        self.assertGreaterEqual(sleeps[0], 1.0)

    def test_a_refused_post_is_logged_and_feeding_goes_on(self):
        layout = sandbox_layout.Layout('/nonexistent', 26000, 'secret')
        session = FakeSession(status_code=503)
        with self.assertLogs('heatwatcher.sandbox.feeder', 'WARNING') as logs:
            sandbox_feeder.run(layout, self.feeder, session,
                               sleep=lambda seconds: None,
                               clock=lambda: NOW + datetime.timedelta(
                                   minutes=6), rounds=2)
        self.assertIn('HTTP 503', logs.output[0])
        self.assertEqual(2, len(session.posts))
