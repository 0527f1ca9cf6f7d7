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
"""Stopping and starting one service of a sandbox, on ``sleep`` processes
recorded as the sandbox's services (no real service is started)."""

import os
import shutil
import signal
import sys
import tempfile
import unittest
from unittest import mock

from heatwatcher.sandbox import control
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process


class TestControl(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='heatwatcher-control-')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.layout = sandbox_layout.Layout(self.dir, 29000, 'secret')
        self.layout.make_dirs()
        self.layout.save({name: self.layout.log(name) for name in
                          ('postgres', 'gnocchi-api', 'gnocchi-metricd')})
        self.started = []
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for pid in self.started:
            process.stop_pid(pid, timeout=5)

    def _sleeper(self, layout, name='gnocchi-api'):
        return process.Service(layout, name, [
            sys.executable, '-c', 'import time; time.sleep(60)'])

    def _run(self, name):
        pid = self._sleeper(self.layout, name).start()
        self.started.append(pid)
        return pid

    def test_stop_by_recorded_pid_removes_the_pid_file(self):
        pid = self._run('gnocchi-api')
        other = self._run('gnocchi-metricd')
        self.assertEqual(pid, control.service_pid(self.dir, 'gnocchi-api'))
        self.assertEqual(pid, control.stop_service(self.dir, 'gnocchi-api'))
        self.assertFalse(process.alive(pid))
        self.assertFalse(os.path.exists(self.layout.pid_file('gnocchi-api')))
        self.assertIsNone(control.service_pid(self.dir, 'gnocchi-api'))
        self.assertTrue(process.alive(other))

    def test_stop_of_a_stopped_service_returns_none(self):
        self.assertIsNone(control.stop_service(self.dir, 'gnocchi-api'))

    def test_stop_uses_the_signal_down_uses(self):
        pid = self._run('postgres')
        with mock.patch.object(process, 'stop',
                               return_value=True) as stop:
            control.stop_service(self.dir, 'postgres')
        stop.assert_called_once_with(mock.ANY, 'postgres', timeout=30,
                                     sig=signal.SIGINT)
        self.assertEqual(signal.SIGTERM, control.stop_signal('keystone'))
        self.assertTrue(process.alive(pid))

    def test_a_service_that_does_not_stop_is_an_error(self):
        self._run('gnocchi-api')
        with mock.patch.object(process, 'stop', return_value=False):
            with self.assertRaises(errors.SandboxError) as caught:
                control.stop_service(self.dir, 'gnocchi-api')
        self.assertIn('gnocchi-api (pid ', str(caught.exception))

    def test_start_records_the_new_pid_and_waits_until_ready(self):
        old = self._run('gnocchi-api')
        control.stop_service(self.dir, 'gnocchi-api')
        ready = mock.Mock(side_effect=[False, True])
        with mock.patch.dict(control.RESTARTABLE, {
                'gnocchi-api': (self._sleeper, ready)}):
            pid = control.start_service(self.dir, 'gnocchi-api')
        self.started.append(pid)
        self.assertNotEqual(old, pid)
        self.assertEqual(pid, process.read_pid(
            self.layout.pid_file('gnocchi-api')))
        self.assertTrue(process.alive(pid))
        self.assertEqual(2, ready.call_count)
        ready.assert_called_with(mock.ANY)
        self.assertEqual(self.dir, ready.call_args[0][0].dir)

    def test_start_of_a_running_service_is_refused(self):
        pid = self._run('gnocchi-api')
        with self.assertRaises(errors.AlreadyRunning) as caught:
            control.start_service(self.dir, 'gnocchi-api')
        self.assertIn('gnocchi-api, pid %d' % pid, str(caught.exception))

    def test_unknown_and_not_restartable_services_are_errors(self):
        with self.assertRaises(errors.SandboxError) as caught:
            control.stop_service(self.dir, 'nova')
        self.assertIn('nova is not a service of the sandbox',
                      str(caught.exception))
        with self.assertRaises(errors.SandboxError) as caught:
            control.start_service(self.dir, 'postgres')
        self.assertIn('postgres cannot be started alone',
                      str(caught.exception))

    def test_restartable_services_build_as_up_does(self):
        api = control.RESTARTABLE['gnocchi-api'][0](self.layout)
        metricd = control.RESTARTABLE['gnocchi-metricd'][0](self.layout)
        engine = control.RESTARTABLE['watcher-decision-engine'][0](
            self.layout)
        self.assertEqual(('gnocchi-api', self.layout.port('gnocchi')),
                         (api.name, api.port))
        self.assertEqual('gnocchi-metricd', metricd.name)
        self.assertEqual('watcher-decision-engine', engine.name)
        nova = control.RESTARTABLE['nova'][0](self.layout)
        self.assertEqual(('nova', self.layout.port('nova')),
                         (nova.name, nova.port))
        self.assertIn(self.layout.path('emulators', 'topology.json'),
                      nova.argv)
