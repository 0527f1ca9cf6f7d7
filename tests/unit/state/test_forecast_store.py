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

import json
import os
import tempfile
import unittest

from heatwatcher.state import forecast_store


class TestForecastStore(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__('shutil').rmtree(self.dir))

    def test_round_trip_per_audit(self):
        self.assertEqual((None, None), forecast_store.load(self.dir, 'a/1'))
        self.assertIsNone(forecast_store.save(self.dir, 'a/1', {'x': 1}))
        record, note = forecast_store.load(self.dir, 'a/1')
        self.assertEqual({'x': 1, 'version': 1}, record)
        self.assertIsNone(note)
        self.assertEqual(['forecast-a_1.json'], os.listdir(self.dir))

    def test_unreadable_state_is_a_note(self):
        with open(os.path.join(self.dir, 'forecast-a.json'), 'w') as f:
            f.write('{not json')
        record, note = forecast_store.load(self.dir, 'a')
        self.assertIsNone(record)
        self.assertIn('forecast-a.json not used', note)
        with open(os.path.join(self.dir, 'forecast-a.json'), 'w') as f:
            json.dump({'version': 99}, f)
        self.assertIn('version 99, expected 1',
                      forecast_store.load(self.dir, 'a')[1])

    def test_unwritable_directory_is_a_note(self):
        path = os.path.join(self.dir, 'file')
        open(path, 'w').close()
        note = forecast_store.save(path, 'a', {'x': 1})
        self.assertIn('not written', note)
