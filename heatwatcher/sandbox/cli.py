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
"""``heatwatcher sandbox up|status|env|down [--dir DIR]``.

``up`` starts the services one by one and shows a line per step; if one
does not come up it prints one line naming the service and its log file,
stops everything it started and exits 1 (2 when Debian packages are
missing and cannot be installed). ``status`` exits 0 only if every
service runs. ``down`` stops the services by their recorded pids.
"""

import datetime
import os
import shlex
import shutil
import signal
import sys
import time

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                      'samples', 'demo-snapshot.json.gz')

# Service name -> the port name it listens on (for ``status``).
SERVICE_PORTS = {
    'epmd': 'epmd', 'rabbitmq': 'rabbitmq', 'postgres': 'postgres',
    'keystone': 'keystone', 'gnocchi-api': 'gnocchi', 'nova': 'nova',
    'placement': 'placement', 'watcher-api': 'watcher',
    'ironic-api': 'ironic', 'ironic-conductor': 'ironic_rpc',
    'horizon': 'horizon', 'image-network': 'image_network',
}
# Signals that stop a service quickly and cleanly (default SIGTERM).
# uWSGI's graceful stop of gnocchi-api (SIGTERM) can hang until the stop
# timeout; SIGINT stops it at once.
STOP_SIGNALS = {'postgres': signal.SIGINT, 'gnocchi-api': signal.SIGINT}
# Nova and Placement run under uWSGI too (with ``up --nova real``).
STOP_SIGNALS.update({'nova': signal.SIGINT, 'placement': signal.SIGINT})
# Data directories ``up`` recreates when it reuses a stopped sandbox.
DATA_DIRS = ('rabbitmq', 'postgres', 'keystone', 'gnocchi', 'emulators',
             'ironic', 'watcher', 'horizon', 'nova', 'pids', 'logs')


def add_parser(subparsers):
    """Add the ``sandbox`` command to ``heatwatcher``'s subparsers."""
    parser = subparsers.add_parser(
        'sandbox', help='run a real Watcher deployment on this machine')
    actions = parser.add_subparsers(dest='sandbox_command')

    def common(sub):
        sub.add_argument('--dir', default=sandbox_layout.DEFAULT_DIR,
                         help='sandbox directory (default: %(default)s)')
        sub.add_argument('-v', '--verbose', action='store_true')
        sub.add_argument('-q', '--quiet', action='store_true')

    up = actions.add_parser('up', help='start the services and load a '
                                       'snapshot')
    common(up)
    up.add_argument('--snapshot', default=SAMPLE,
                    help='snapshot file (default: the bundled demo sample)')
    up.add_argument('--base-port', type=int,
                    default=sandbox_layout.DEFAULT_BASE_PORT,
                    help='first of the %d consecutive ports used on '
                         '127.0.0.1 (default: %%(default)s)'
                         % sandbox_layout.PORT_COUNT)
    up.add_argument('--dashboard', action='store_true',
                    help='also start Horizon with the Watcher dashboard '
                         '(needs heatwatcher[dashboard])')
    up.add_argument('--nova', choices=('emulated', 'real'),
                    default='emulated',
                    help='Nova and Placement: the API emulators of '
                         'python-watcher (default), or real Nova and '
                         'Placement with one nova-compute (fake virt '
                         'driver) per snapshot host, for small snapshots '
                         '(needs heatwatcher[nova])')
    for name, text in (('status', 'show each service and its state'),
                       ('env', 'print the OS_* variables of the admin')):
        common(actions.add_parser(name, help=text))
    down = actions.add_parser('down', help='stop the services by their pids')
    common(down)
    down.add_argument('--remove', action='store_true',
                      help='once every service is stopped, delete the '
                           'sandbox directory (data, logs, configuration)')
    parser.set_defaults(verbose=False, quiet=False)
    return parser


def main(args):
    """Run the ``sandbox`` subcommand; return the exit status."""
    command = getattr(args, 'sandbox_command', None)
    if not command:
        sys.stderr.write('usage: heatwatcher sandbox {up,status,env,down} '
                         '[--dir DIR]\n')
        return 2
    try:
        return {'up': up, 'status': status, 'env': env,
                'down': down}[command](args)
    except errors.MissingPackages as exc:
        sys.stderr.write('heatwatcher sandbox: %s\n' % exc)
        return 2
    except errors.SandboxError as exc:
        sys.stderr.write('heatwatcher sandbox: %s\n' % exc)
        return 1


class _Progress:
    def __init__(self, quiet):
        self.quiet = quiet
        self.start = time.monotonic()

    def __call__(self, message):
        if not self.quiet:
            print('[%6.1fs] %s' % (time.monotonic() - self.start, message),
                  flush=True)


def _running_services(directory):
    try:
        layout, services = sandbox_layout.Layout.load(directory)
    except errors.NotRunning:
        return []
    from heatwatcher.sandbox import process
    return [name for name in services
            if process.alive(process.read_pid(layout.pid_file(name)))]


def _clear(layout):
    """Remove the data of a stopped sandbox (inside DIR only)."""
    for name in DATA_DIRS:
        shutil.rmtree(layout.path(name), ignore_errors=True)
    for name in ('sandbox.json',):
        try:
            os.unlink(layout.path(name))
        except FileNotFoundError:
            pass


def up(args):
    running = _running_services(args.dir)
    if running:
        raise errors.AlreadyRunning(path=os.path.abspath(args.dir),
                                    services=', '.join(running))
    from heatwatcher.sandbox import infra
    progress = _Progress(args.quiet)
    layout = sandbox_layout.Layout(args.dir, args.base_port)
    _clear(layout)
    layout.make_dirs()
    infra.ensure_packages(layout, progress)
    started = []
    try:
        _up(layout, args, progress, started)
    except BaseException as exc:
        if isinstance(exc, errors.SandboxError):
            sys.stderr.write('heatwatcher sandbox: %s\n' % exc)
        elif isinstance(exc, KeyboardInterrupt):
            sys.stderr.write('heatwatcher sandbox: interrupted\n')
        else:
            sys.stderr.write('heatwatcher sandbox: %s: %s\n'
                             % (type(exc).__name__, exc))
        progress('stopping the %d services started' % len(started))
        _stop(layout, [service.name for service in started])
        if isinstance(exc, errors.SandboxError):
            return 1
        if isinstance(exc, KeyboardInterrupt):
            return 1
        raise
    progress('sandbox up in %.0f s; use it with:  eval "$(heatwatcher '
             'sandbox env --dir %s)"; openstack optimize goal list'
             % (time.monotonic() - progress.start, shlex.quote(layout.dir)))
    return 0


def _up(layout, args, progress, started):
    from heatwatcher.sandbox import emulators
    from heatwatcher.sandbox import feeder
    from heatwatcher.sandbox import gnocchi
    from heatwatcher.sandbox import infra
    from heatwatcher.sandbox import ironic
    from heatwatcher.sandbox import keystone
    from heatwatcher.sandbox import telemetry
    from heatwatcher.sandbox import watcher
    from heatwatcher.snapshot import load

    def start(service):
        service.start()
        started.append(service)
        layout.save({svc.name: svc.log_path for svc in started})

    if args.dashboard:
        from heatwatcher.sandbox import horizon
        # Fail before starting anything if Horizon is not installed.
        horizon.locate_packages(layout, horizon.horizon_python())
    real_nova = getattr(args, 'nova', 'emulated') == 'real'
    if real_nova:
        # Fail before starting anything if Nova is not installed.
        _check_nova_installed()
    progress('loading snapshot %s' % args.snapshot)
    doc = load.load(args.snapshot)
    snapshot_path = args.snapshot
    progress('%d hosts, %d instances; directory %s, ports %d-%d'
             % (len(doc['hosts']), len(doc['instances']), layout.dir,
                layout.base_port, layout.base_port + sandbox_layout.PORT_COUNT
                - 1))
    epmd, rabbit = infra.rabbitmq_services(layout)
    start(epmd)
    epmd.wait(timeout=30)
    start(rabbit)
    progress('rabbitmq starting')
    postgres = infra.postgres_service(layout)
    start(postgres)
    progress('postgres starting')
    keystone.configure(layout)
    ks_service = keystone.service(layout)
    start(ks_service)
    ks_service.wait(lambda: keystone.ready(layout), timeout=120)
    keystone.register_catalog(layout)
    progress('keystone up at %s, catalog registered' % layout.auth_url)
    postgres.wait(timeout=60)
    progress('postgres up on port %d' % layout.port('postgres'))
    if real_nova:
        from heatwatcher.sandbox import nova
        rabbit.wait(timeout=120)
        progress('rabbitmq up on port %d' % layout.port('rabbitmq'))
        # Nova gives the servers their UUIDs: the telemetry is written
        # (and replayed) under those.
        doc, snapshot_path = nova.start(
            layout, doc, keystone.admin_session(layout), start, progress)
    gnocchi.configure(layout)
    api, metricd = gnocchi.services(layout)
    start(api)
    start(metricd)
    api.wait(lambda: gnocchi.ready(layout), timeout=120)
    progress('gnocchi up at %s' % layout.url('gnocchi'))
    sess = keystone.admin_session(layout)
    now = datetime.datetime.now(datetime.timezone.utc)
    telemetry.write(layout, sess, doc, progress, now=now)
    start(feeder.service(layout, snapshot_path,
                         telemetry.time_shift(doc, now)))
    progress('telemetry feeder started (keeps the series current)')
    if not real_nova:
        topology = emulators.write_topology(layout, doc)
        for service in emulators.services(layout, topology):
            start(service)
            service.wait(timeout=60)
        progress('nova and placement emulators up')
    ironic.configure(layout, keystone_auth=layout.auth_options())
    ironic.start(layout, sess, start)
    ironic.register_endpoint(layout, sess)
    if real_nova:
        # The nodes name Nova's hypervisor ids (Watcher's metal helper
        # looks the node's compute node up by it).
        hosts = nova.compute_hosts(layout, sess, doc)
    else:
        hosts = ironic.compute_hosts(doc)
    ironic.enroll_nodes(layout, sess, hosts)
    progress('ironic up at %s, %d fake-hardware nodes enrolled'
             % (ironic.api_url(layout), len(doc['hosts'])))
    rabbit.wait(timeout=120)
    progress('rabbitmq up on port %d' % layout.port('rabbitmq'))
    watcher.configure(layout, doc)
    w_api, engine, applier = watcher.services(layout)
    for service in (w_api, engine, applier):
        start(service)
    w_api.wait(timeout=60)
    engine.wait(lambda: 'heat_reuse' in watcher.goals(layout, sess),
                timeout=180, what='synced (goal heat_reuse)')
    applier.wait(lambda: True, timeout=5)
    progress('watcher up at %s (goal heat_reuse synced)'
             % layout.url('watcher'))
    telemetry.wait_processed(layout, sess)
    progress('gnocchi-metricd has processed the measures')
    if args.dashboard:
        from heatwatcher.sandbox import horizon
        python = horizon.configure(layout, layout.auth_url)
        dashboard = horizon.service(layout, layout.port('horizon'), python)
        url = horizon.dashboard_url(layout.port('horizon'))
        start(dashboard)
        dashboard.wait(lambda: horizon.login_page_answers(url),
                       timeout=horizon.READY_TIMEOUT,
                       what='serving its login page')
        progress('horizon up at %s (log in as %s)'
                 % (url, sandbox_layout.ADMIN_USER))


def _check_nova_installed():
    for name in ('nova-compute', 'nova-manage', 'placement-manage'):
        if not os.path.exists(sandbox_layout.bin_path(name)):
            raise errors.SandboxError(
                reason='%s is not installed; --nova real needs '
                       'pip install heatwatcher[nova]' % name)


def _stop(layout, names):
    from heatwatcher.sandbox import process
    failed = []
    for name in reversed(names):
        if not process.stop(layout, name,
                            sig=STOP_SIGNALS.get(name, signal.SIGTERM)):
            failed.append(name)
    return failed


def status(args):
    from heatwatcher.sandbox import process
    layout, services = sandbox_layout.Layout.load(args.dir)
    all_up = True
    pids = []
    for name in services:
        pid = process.read_pid(layout.pid_file(name))
        pids.append(pid)
        state = 'running' if process.alive(pid) else 'stopped'
        port_name = SERVICE_PORTS.get(name)
        where = ''
        if port_name:
            port = layout.port(port_name)
            where = '127.0.0.1:%d' % port
            if state == 'running' and not process.port_open(port):
                state = 'not listening'
        if state != 'running':
            all_up = False
        print('%-24s %-14s %-8s %-16s %s' % (
            name, state, pid or '-', where, layout.log(name)))
    print('memory: %.0f MiB resident (all processes of the services)'
          % (process.session_rss(pid for pid in pids if pid) / 2.0 ** 20))
    return 0 if all_up and services else 1


def env(args):
    layout, _services = sandbox_layout.Layout.load(args.dir)
    for key, value in layout.credentials().items():
        print('export %s=%s' % (key, shlex.quote(value)))
    if 'horizon' in _services:
        from heatwatcher.sandbox import horizon
        print('export HEATWATCHER_DASHBOARD_URL=%s' % shlex.quote(
            horizon.dashboard_url(layout.port('horizon'))))
    return 0


def down(args):
    layout, services = sandbox_layout.Layout.load(args.dir)
    failed = _stop(layout, list(services))
    if failed:
        sys.stderr.write('heatwatcher sandbox: could not stop %s\n'
                         % ', '.join(failed))
        return 1
    if not args.quiet:
        print('stopped %d services of %s' % (len(services), layout.dir))
    if args.remove:
        shutil.rmtree(layout.dir)
        if not args.quiet:
            print('removed %s' % layout.dir)
    return 0
