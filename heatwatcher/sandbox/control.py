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
"""Stop and start one service of a running sandbox (fault injection).

``stop_service`` stops it by its recorded pid, with the signal ``down``
uses; ``start_service`` starts it again as ``up`` did (same command, same
log file, new pid file) and waits until it is ready. Only the services
whose process ``up`` builds from the layout alone can be started again
(:data:`RESTARTABLE`); any recorded service can be stopped. The Nova and
Placement emulators start again from the topology ``up`` wrote: the
snapshot's placement, every host enabled.
"""

import signal

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

READY_TIMEOUT = 120


def _gnocchi(index):
    def build(layout):
        from heatwatcher.sandbox import gnocchi
        return gnocchi.services(layout)[index]
    return build


def _watcher(index):
    def build(layout):
        from heatwatcher.sandbox import watcher
        return watcher.services(layout)[index]
    return build


def _emulator(index):
    def build(layout):
        # the topology ``up`` wrote: the snapshot's placement again
        from heatwatcher.sandbox import emulators
        return emulators.services(
            layout, layout.path('emulators', 'topology.json'))[index]
    return build


def _keystone(layout):
    from heatwatcher.sandbox import keystone
    return keystone.service(layout)


def _gnocchi_ready(layout):
    from heatwatcher.sandbox import gnocchi
    return gnocchi.ready(layout)


def _keystone_ready(layout):
    from heatwatcher.sandbox import keystone
    return keystone.ready(layout)


#: Service name -> (build the ``process.Service``, readiness check taking
#: the layout, or None: the port answers, or the process keeps running).
RESTARTABLE = {
    'keystone': (_keystone, _keystone_ready),
    'gnocchi-api': (_gnocchi(0), _gnocchi_ready),
    'gnocchi-metricd': (_gnocchi(1), None),
    'nova': (_emulator(0), None),
    'placement': (_emulator(1), None),
    'watcher-api': (_watcher(0), None),
    'watcher-decision-engine': (_watcher(1), None),
    'watcher-applier': (_watcher(2), None),
}


def _load(directory, name):
    layout, services = sandbox_layout.Layout.load(directory)
    if name not in services:
        raise errors.SandboxError(
            reason='%s is not a service of the sandbox in %s (%s)'
                   % (name, layout.dir, ', '.join(services)))
    return layout


def stop_signal(name):
    """The signal ``down`` stops service ``name`` with."""
    from heatwatcher.sandbox import cli
    return cli.STOP_SIGNALS.get(name, signal.SIGTERM)


def service_pid(directory, name):
    """The recorded pid of service ``name`` if it runs, else None."""
    layout = _load(directory, name)
    pid = process.read_pid(layout.pid_file(name))
    return pid if process.alive(pid) else None


def stop_service(directory, name, timeout=30):
    """Stop service ``name`` of the sandbox in ``directory`` by its pid.

    :returns: the pid it had (None if it was not running).
    :raises: :class:`~heatwatcher.sandbox.errors.SandboxError` if it is
        not a service of that sandbox or does not stop.
    """
    layout = _load(directory, name)
    pid = process.read_pid(layout.pid_file(name))
    if not process.alive(pid):
        return None
    if not process.stop(layout, name, timeout=timeout,
                        sig=stop_signal(name)):
        raise errors.SandboxError(reason='%s (pid %d) did not stop'
                                         % (name, pid))
    return pid


def start_service(directory, name, timeout=READY_TIMEOUT):
    """Start service ``name`` again, as ``up`` did; wait until ready.

    :returns: its new pid.
    :raises: :class:`~heatwatcher.sandbox.errors.AlreadyRunning` if it
        runs; :class:`~heatwatcher.sandbox.errors.SandboxError` if it
        cannot be restarted here;
        :class:`~heatwatcher.sandbox.errors.ServiceFailed` if it does not
        come up.
    """
    layout = _load(directory, name)
    pid = process.read_pid(layout.pid_file(name))
    if process.alive(pid):
        raise errors.AlreadyRunning(path=layout.dir,
                                    services='%s, pid %d' % (name, pid))
    if name not in RESTARTABLE:
        raise errors.SandboxError(
            reason='%s cannot be started alone; restartable: %s'
                   % (name, ', '.join(sorted(RESTARTABLE))))
    build, ready = RESTARTABLE[name]
    service = build(layout)
    new_pid = service.start()
    if ready is not None:
        service.wait(lambda: ready(layout), timeout=timeout)
    elif service.port:
        service.wait(timeout=timeout)
    else:
        service.wait(lambda: True, timeout=timeout)
    return new_pid
