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
"""One sandbox for the whole integration session.

``heatwatcher sandbox up`` runs once, in a fresh directory and on free
ports; the tests drive it with the real ``openstack`` command line in
subprocesses, with the credentials ``heatwatcher sandbox env`` prints.
Nothing is skipped: a missing prerequisite fails the session.

Set ``HEATWATCHER_SANDBOX_DIR`` to an already running sandbox to reuse it
(it is then left running).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from heatwatcher.sandbox import layout as sandbox_layout

BIN_DIR = os.path.dirname(sys.executable)
UP_TIMEOUT = 1800
TERMINAL_STATES = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUPERSEDED',
                   'DELETED')


def _command(name):
    path = os.path.join(BIN_DIR, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name)
    if not found:
        pytest.fail('%s is not installed (pip install heatwatcher[sandbox])'
                    % name)
    return found


class Sandbox:
    """A running sandbox and the real clients pointed at it."""

    def __init__(self, directory):
        self.dir = directory
        self.layout, self.services = sandbox_layout.Layout.load(directory)
        self.env = dict(os.environ, PYTHONWARNINGS='ignore',
                        **self.layout.credentials())

    def run(self, *args, check=True, timeout=300):
        """Run a command with the sandbox's credentials."""
        result = subprocess.run(args, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode:
            pytest.fail('%s exited %d:\n%s\n%s' % (
                ' '.join(args), result.returncode, result.stdout,
                result.stderr[-3000:]))
        return result

    def openstack(self, *args, check=True):
        """``openstack ARGS -f json``, decoded."""
        result = self.run(_command('openstack'), *args, '-f', 'json',
                          check=check)
        if result.returncode:
            return result
        return json.loads(result.stdout)

    def wait_state(self, kind, uuid, timeout=900, interval=3):
        """Poll ``openstack optimize KIND show UUID`` until it settles."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.openstack('optimize', kind, 'show', uuid)['State']
            if state in TERMINAL_STATES:
                return state
            time.sleep(interval)
        pytest.fail('%s %s still %s after %d s' % (kind, uuid, state,
                                                   timeout))


def tear_down(heatwatcher, directory, request):
    """Stop a sandbox a fixture started; delete it unless a test failed.

    After a failure the directory (logs, configuration) is kept and named
    on stderr.
    """
    failed = request.session.testsfailed
    subprocess.run([heatwatcher, 'sandbox', 'down', '--dir', directory]
                   + ([] if failed else ['--remove']), timeout=300)
    if failed:
        sys.stderr.write('\nsandbox kept for its logs: %s\n' % directory)


@pytest.fixture(scope='session')
def sandbox(request):
    reuse = os.environ.get('HEATWATCHER_SANDBOX_DIR')
    if reuse:
        yield Sandbox(reuse)
        return
    parent = os.environ.get('HEATWATCHER_SANDBOX_PARENT', '/var/tmp')
    directory = tempfile.mkdtemp(prefix='heatwatcher-sandbox-', dir=parent)
    base_port = sandbox_layout.find_free_base_port(26000)
    heatwatcher = _command('heatwatcher')
    started = time.monotonic()
    up = subprocess.run(
        [heatwatcher, 'sandbox', 'up', '--dir', directory, '--base-port',
         str(base_port)], capture_output=True, text=True,
        timeout=UP_TIMEOUT)
    sys.stderr.write('sandbox up in %.0f s\n' % (time.monotonic() - started))
    if up.returncode:
        pytest.fail('heatwatcher sandbox up exited %d:\n%s\n%s' % (
            up.returncode, up.stdout, up.stderr))
    try:
        yield Sandbox(directory)
    finally:
        tear_down(heatwatcher, directory, request)
