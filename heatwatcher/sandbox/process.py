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
"""Start, watch and stop the sandbox's processes, by recorded pids only.

Each service runs in its own session (so its process group id is its pid)
with stdout and stderr in ``DIR/logs/NAME.log``; its pid goes to
``DIR/pids/NAME.pid``. Stopping signals that process group; processes the
service started in sessions of their own (PostgreSQL's backends call
``setsid``) and that outlive it are then killed, found as its descendants
when the stop began. No process is ever looked up by name.
"""

import os
import signal
import socket
import subprocess
import time

from oslo_log import log

from heatwatcher.sandbox import errors

LOG = log.getLogger(__name__)


def read_pid(pid_file):
    """The pid recorded in ``pid_file``, or None."""
    try:
        with open(pid_file) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _stat_fields(pid):
    """The fields of ``/proc/PID/stat`` after the command, or None.

    ``[0]`` state, ``[1]`` parent pid, ``[3]`` session id, ``[19]`` start
    time in clock ticks.
    """
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()
    except OSError:
        return None


def alive(pid):
    """True if ``pid`` runs and is not a zombie."""
    fields = _stat_fields(pid) if pid else None
    return fields is not None and fields[0] not in ('Z', 'X')


def _parent_and_start(pid):
    """``(parent pid, start time in clock ticks)`` of ``pid``, or None."""
    fields = _stat_fields(pid)
    return (int(fields[1]), int(fields[19])) if fields else None


def descendants(pid):
    """``{pid: start time}`` of every process below ``pid``."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            found = _parent_and_start(int(entry))
            if found:
                children.setdefault(found[0], []).append(
                    (int(entry), found[1]))
    below, todo = {}, [pid]
    while todo:
        for child, started in children.get(todo.pop(), ()):
            if child not in below:
                below[child] = started
                todo.append(child)
    return below


def _kill_left(below, timeout=10):
    """SIGKILL the processes of ``below`` that still run.

    A pid counts only if its start time is still the recorded one (not a
    new process that reused the pid).

    :returns: the pids that were left.
    """
    def same_process(child, started):
        found = _parent_and_start(child)
        return found is not None and found[1] == started

    left = [child for child, started in below.items()
            if alive(child) and same_process(child, started)]
    for child in left:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(alive(child) for child in left) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def session_rss(leaders):
    """Resident memory (bytes) of every process in the sessions ``leaders``.

    Each service is started as a session leader, so its session holds its
    workers and helpers too.
    """
    leaders = set(leaders)
    total = 0
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            fields = _stat_fields(int(entry))
            if fields is None or int(fields[3]) not in leaders:
                continue
            with open('/proc/%s/status' % entry) as handle:
                for line in handle:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def port_open(port, host='127.0.0.1', timeout=0.5):
    """True if something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def run(layout, step, argv, env=None, log_name='setup', cwd=None,
        timeout=600):
    """Run a set-up command to completion, output appended to a log.

    :raises: :class:`~heatwatcher.sandbox.errors.StepFailed`
    """
    log_path = layout.log(log_name)
    full_env = dict(os.environ, **(env or {}))
    with open(log_path, 'ab') as log_file:
        log_file.write(('\n$ %s\n' % ' '.join(argv)).encode())
        log_file.flush()
        try:
            result = subprocess.run(argv, stdout=log_file,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=full_env,
                                    cwd=cwd, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise errors.StepFailed(step=step, reason=str(exc), log=log_path)
    if result.returncode:
        raise errors.StepFailed(step=step, reason='exit status %d'
                                % result.returncode, log=log_path)


class Service:
    """One long-running process of the sandbox."""

    def __init__(self, layout, name, argv, env=None, cwd=None, port=None):
        self.layout = layout
        self.name = name
        self.argv = argv
        self.env = env or {}
        self.cwd = cwd
        self.port = port
        self.popen = None

    @property
    def log_path(self):
        return self.layout.log(self.name)

    def start(self):
        """Start the process in its own session; record its pid."""
        # Deprecation warnings of the SDK would fill the logs (about 20 MB
        # per hour in the decision engine's).
        full_env = dict(os.environ, PYTHONWARNINGS='ignore', **self.env)
        with open(self.log_path, 'ab') as log_file:
            try:
                self.popen = subprocess.Popen(
                    self.argv, stdout=log_file, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=full_env, cwd=self.cwd,
                    start_new_session=True)
            except OSError as exc:
                raise errors.ServiceFailed(service=self.name,
                                           reason=str(exc),
                                           log=self.log_path)
        with open(self.layout.pid_file(self.name), 'w') as pid_file:
            pid_file.write('%d\n' % self.popen.pid)
        LOG.debug('%s started, pid %d', self.name, self.popen.pid)
        return self.popen.pid

    def running(self):
        if self.popen is not None:
            return self.popen.poll() is None
        return alive(read_pid(self.layout.pid_file(self.name)))

    def wait(self, check=None, timeout=120, what='ready'):
        """Wait until ``check()`` (default: the port answers) is true.

        :raises: :class:`~heatwatcher.sandbox.errors.ServiceFailed` if the
            process exits or ``timeout`` seconds pass first.
        """
        if check is None:
            def check():
                return port_open(self.port)
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if not self.running():
                raise errors.ServiceFailed(
                    service=self.name, reason='the process exited',
                    log=self.log_path)
            try:
                if check():
                    return
            except Exception as exc:  # a check that cannot tell yet
                last_error = exc
            time.sleep(0.5)
        reason = 'not %s after %d s' % (what, timeout)
        if last_error is not None:
            reason += ', last error: %s' % last_error
        raise errors.ServiceFailed(service=self.name, reason=reason,
                                   log=self.log_path)


def stop_pid(pid, timeout=30, sig=signal.SIGTERM):
    """Signal process group ``pid`` and wait for ``pid`` to exit.

    Escalates to SIGKILL (same group) after ``timeout`` seconds.

    Processes ``pid`` had started (its descendants when the stop began)
    that outlive it in other process groups are then killed, with a
    warning: PostgreSQL's backends, for one, are in sessions of their own,
    and a backend busy in a query outlives a postmaster that was killed.

    :returns: True if the process is gone.
    """
    if not alive(pid):
        return True
    below = descendants(pid)
    gone = _signal_group(pid, sig, timeout)
    if gone:
        left = _kill_left(below)
        if left:
            LOG.warning('Process %d outlived by %d of the processes it '
                        'started (%s): killed', pid, len(left),
                        ', '.join(str(child) for child in sorted(left)))
    return gone


def _signal_group(pid, sig, timeout):
    """``sig`` to the group of ``pid``, then SIGKILL; True once it ends."""
    for current, wait_for in ((sig, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(pid, current)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, current)
        deadline = time.monotonic() + wait_for
        while time.monotonic() < deadline:
            try:
                # Reap it if it is our child (during a failed ``up``).
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not alive(pid):
                return True
            time.sleep(0.2)
    return not alive(pid)


def stop(layout, name, timeout=30, sig=signal.SIGTERM):
    """Stop service ``name`` by its recorded pid; remove the pid file."""
    pid_file = layout.pid_file(name)
    pid = read_pid(pid_file)
    gone = stop_pid(pid, timeout, sig) if pid else True
    if gone:
        try:
            os.unlink(pid_file)
        except FileNotFoundError:
            pass
    return gone
