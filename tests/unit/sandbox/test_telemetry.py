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
"""Writing a snapshot's series to Gnocchi: resources, batches, memory."""

import datetime
import unittest
from unittest import mock

from heatwatcher.sandbox import gnocchi
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import telemetry

UTC = datetime.timezone.utc
STEP = 300
CAPTURED = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NOW = datetime.datetime(2026, 11, 23, 3, 7, 30, tzinfo=UTC)
INSTANCES = 25
POINTS = 12


def _doc():
    start = CAPTURED - datetime.timedelta(seconds=POINTS * STEP)
    series = {'start': start.isoformat(), 'step': STEP,
              'values': [10.0] * POINTS}
    uuids = ['%08d-0000-0000-0000-000000000000' % index
             for index in range(INSTANCES)]
    return {
        'version': 1, 'captured_at': CAPTURED.isoformat(),
        'hosts': [{'name': 'a-01'}],
        'instances': [{'uuid': uuid, 'name': uuid[:8], 'host': 'a-01',
                       'vcpus': 1} for uuid in uuids],
        'metrics': {'instance_cpu_usage': {uuid: series for uuid in uuids},
                    'host_power': {'a-01': series}},
    }


class Response:

    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self.text = ''
        self._body = body

    def json(self):
        return self._body


class Session:
    """Gnocchi as ``write`` sees it: every request accepted."""

    def __init__(self):
        self.measure_posts = []

    def post(self, url, json, raise_exc):
        if url.endswith('/batch/resources/metrics/measures'):
            self.measure_posts.append(json)
            return Response(202)
        return Response(201, {'id': json.get('id')})


class WriteTest(unittest.TestCase):

    def setUp(self):
        self.layout = sandbox_layout.Layout('/nonexistent', 26000, 'pw')
        self.session = Session()
        prepare = mock.patch.object(gnocchi, 'prepare')
        prepare.start()
        self.addCleanup(prepare.stop)

    def test_every_resource_and_measure_posted_in_batches(self):
        created, total = telemetry.write(self.layout, self.session, _doc(),
                                         now=NOW)
        self.assertEqual(INSTANCES + 1, created)
        # the CPU counter has one point more than its series (its start)
        self.assertEqual(INSTANCES * (POINTS + 1) + POINTS, total)
        sizes = [len(batch) for batch in self.session.measure_posts]
        self.assertEqual([telemetry.BATCH_RESOURCES] * 2 + [6], sizes)
        posted = {resource for batch in self.session.measure_posts
                  for resource in batch}
        self.assertEqual(INSTANCES + 1, len(posted))

    def test_measures_are_built_one_batch_at_a_time(self):
        # how many resources had been built when each batch was posted:
        # never more than the batch (the measures of a large snapshot do
        # not fit in memory all at once)
        built = []
        real = telemetry.resources

        def counting(doc, shift):
            for item in real(doc, shift):
                built.append(item[1]['id'])
                yield item

        seen = []
        post = self.session.post

        def recording(url, json, raise_exc):
            if url.endswith('/measures'):
                seen.append(len(built))
            return post(url, json, raise_exc)

        self.session.post = recording
        with mock.patch.object(telemetry, 'resources', counting):
            telemetry.write(self.layout, self.session, _doc(), now=NOW)
        self.assertEqual([10, 20, 26], seen)


if __name__ == '__main__':
    unittest.main()
