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
"""``heatwatcher sandbox down``, with the stopping of services mocked."""


import os
import shutil
import tempfile
import unittest
from unittest import mock

from heatwatcher.cmd import main as heatwatcher_main
from heatwatcher.sandbox import cli
from heatwatcher.sandbox import layout as sandbox_layout


class TestDown(unittest.TestCase):
    """``heatwatcher sandbox down [--remove]`` on a recorded sandbox."""

    def setUp(self):
        parent = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, parent, ignore_errors=True)
        self.directory = os.path.join(parent, 'sandbox')
        layout = sandbox_layout.Layout(self.directory, 26000)
        layout.make_dirs()
        layout.save({'keystone': layout.log('keystone')})

    def down(self, *options, failed=()):
        with mock.patch.object(cli, '_stop',
                               return_value=list(failed)) as stop:
            # parsed as ``heatwatcher`` does, without its logging setup
            args = heatwatcher_main.parser().parse_args(
                ['sandbox', 'down', '--dir', self.directory, '-q',
                 *options])
            status = cli.main(args)
        stop.assert_called_once()
        self.assertEqual(['keystone'], stop.call_args.args[1])
        return status

    def test_down_keeps_the_directory(self):
        self.assertEqual(0, self.down())
        self.assertTrue(os.path.isfile(
            os.path.join(self.directory, 'sandbox.json')))

    def test_remove_deletes_the_directory_once_stopped(self):
        self.assertEqual(0, self.down('--remove'))
        self.assertFalse(os.path.exists(self.directory))

    def test_remove_keeps_the_directory_of_a_service_still_running(self):
        self.assertEqual(1, self.down('--remove', failed=['keystone']))
        self.assertTrue(os.path.isdir(self.directory))
