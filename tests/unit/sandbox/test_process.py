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
"""Stopping a process whose children run in sessions of their own."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from heatwatcher.sandbox import process

# A parent that starts a child in a session of its own (as PostgreSQL's
# postmaster starts its backends) which ignores SIGTERM, writes the child's
# pid, and waits.
PARENT = '''
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, '-c',
    'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
    'time.sleep(120)'], start_new_session=True)
with open(sys.argv[1], 'w') as out:
    out.write(str(child.pid))
time.sleep(120)
'''


class TestStopPid(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='heatwatcher-process-')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def _parent(self):
        pid_file = os.path.join(self.dir, 'child.pid')
        parent = subprocess.Popen([sys.executable, '-c', PARENT, pid_file],
                                  start_new_session=True)
        self.addCleanup(parent.wait)
        deadline = time.monotonic() + 30
        while not os.path.exists(pid_file) or not open(pid_file).read():
            self.assertLess(time.monotonic(), deadline, 'no child started')
            time.sleep(0.05)
        child = int(open(pid_file).read())
        self.addCleanup(self._kill, child)
        return parent.pid, child

    @staticmethod
    def _kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def test_children_in_other_sessions_do_not_outlive_the_stop(self):
        parent, child = self._parent()
        self.assertIn(child, process.descendants(parent))
        self.assertTrue(process.stop_pid(parent, timeout=5))
        self.assertFalse(process.alive(parent))
        self.assertFalse(process.alive(child))

    def test_a_reused_pid_is_not_killed(self):
        # A pid whose start time is not the recorded one is another
        # process: it is left alone.
        sleeper = subprocess.Popen([sys.executable, '-c',
                                    'import time; time.sleep(60)'])
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        self.assertEqual([], process._kill_left({sleeper.pid: -1},
                                                timeout=1))
        self.assertTrue(process.alive(sleeper.pid))
