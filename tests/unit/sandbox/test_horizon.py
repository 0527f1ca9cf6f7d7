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
"""The pure parts of the sandbox's Horizon: its settings, the panel files,
its port and its command line."""

import os
import tempfile
import unittest

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import horizon
from heatwatcher.sandbox import layout as sandbox_layout

KEYSTONE_URL = 'http://127.0.0.1:26000/v3'


def _settings(path):
    namespace = {}
    with open(path) as settings_file:
        exec(compile(settings_file.read(), path, 'exec'), namespace)
    return namespace


class TestHorizonSettings(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.layout = sandbox_layout.Layout(self.tmp.name, base_port=26000)
        self.layout.make_dirs()

    def test_local_settings_point_at_the_keystone_and_stay_in_dir(self):
        path = horizon.write_local_settings(self.layout, KEYSTONE_URL)
        self.assertEqual(self.layout.path('horizon', 'local',
                                          'local_settings.py'), path)
        self.assertTrue(os.path.exists(self.layout.path(
            'horizon', 'local', '__init__.py')))
        settings = _settings(path)
        self.assertEqual(KEYSTONE_URL, settings['OPENSTACK_KEYSTONE_URL'])
        self.assertEqual('django.contrib.sessions.backends.signed_cookies',
                         settings['SESSION_ENGINE'])
        self.assertIn('127.0.0.1', settings['ALLOWED_HOSTS'])
        self.assertTrue(settings['STATIC_ROOT'].startswith(self.layout.dir))
        self.assertGreaterEqual(len(settings['SECRET_KEY']), 32)

    def test_each_sandbox_gets_its_own_secret_key(self):
        first = _settings(horizon.write_local_settings(self.layout,
                                                       KEYSTONE_URL))
        second = _settings(horizon.write_local_settings(self.layout,
                                                        KEYSTONE_URL))
        self.assertNotEqual(first['SECRET_KEY'], second['SECRET_KEY'])

    def test_port_is_the_one_after_the_sandbox_ports(self):
        self.assertEqual(26009, horizon.port(self.layout))
        self.assertEqual('http://127.0.0.1:26009/',
                         horizon.dashboard_url(26009))

    def test_service_runs_django_with_the_sandbox_settings_first(self):
        service = horizon.service(self.layout, 26009, '/venv/bin/python')
        self.assertEqual(['/venv/bin/python', '-m', 'django', 'runserver',
                          '--noreload', '--insecure', '127.0.0.1:26009'],
                         service.argv)
        self.assertEqual('openstack_dashboard.settings',
                         service.env['DJANGO_SETTINGS_MODULE'])
        self.assertEqual(self.layout.path('horizon'),
                         service.env['PYTHONPATH'].split(os.pathsep)[0])
        self.assertEqual(self.layout.log('horizon'), service.log_path)

    def test_python_without_horizon_names_what_to_install(self):
        with self.assertRaises(errors.StepFailed) as raised:
            horizon.locate_packages(self.layout, '/bin/false')
        self.assertIn('watcher-dashboard', str(raised.exception))


class TestEnableWatcherPanels(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.source = os.path.join(self.tmp.name, 'watcher_enabled')
        self.target = os.path.join(self.tmp.name, 'local_enabled')
        os.makedirs(self.source)
        os.makedirs(self.target)
        for name in ('_31000_goals_panel.py', '_31010_strategies_panel.py',
                     '__init__.py'):
            with open(os.path.join(self.source, name), 'w') as panel:
                panel.write('PANEL = %r\n' % name)

    def test_copies_the_panel_files_once(self):
        copied = horizon.enable_watcher_panels(self.target, self.source)
        self.assertEqual(['_31000_goals_panel.py',
                          '_31010_strategies_panel.py'], copied)
        self.assertFalse(os.path.exists(os.path.join(self.target,
                                                     '__init__.py')))
        self.assertEqual([], horizon.enable_watcher_panels(self.target,
                                                           self.source))

    def test_no_panel_files_is_an_error(self):
        empty = os.path.join(self.tmp.name, 'empty')
        os.makedirs(empty)
        self.assertRaises(errors.SandboxError, horizon.enable_watcher_panels,
                          self.target, empty)
