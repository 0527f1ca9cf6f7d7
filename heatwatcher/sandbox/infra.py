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
"""The Debian-packaged services: RabbitMQ and PostgreSQL, as private
instances whose data live in the sandbox directory."""

import glob
import os
import pwd
import shutil
import subprocess

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import process

DEBIAN_PACKAGES = ('rabbitmq-server', 'postgresql')
RABBITMQ_BIN = '/usr/lib/rabbitmq/bin'
POSTGRES_USER = 'postgres'
GNOCCHI_DATABASE = 'gnocchi'


def _postgres_bindir():
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'))
    return os.path.dirname(found[-1]) if found else None


def missing_packages():
    """The Debian packages the sandbox needs that are not installed."""
    missing = []
    if not os.path.exists(os.path.join(RABBITMQ_BIN, 'rabbitmq-server')):
        missing.append('rabbitmq-server')
    if not _postgres_bindir():
        missing.append('postgresql')
    return missing


def ensure_packages(layout, progress):
    """Install the missing Debian packages when root.

    :raises: :class:`~heatwatcher.sandbox.errors.MissingPackages` when not
        root (the command then exits 2).
    """
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        raise errors.MissingPackages(packages=' '.join(missing))
    progress('installing Debian packages %s' % ' '.join(missing))
    env = {'DEBIAN_FRONTEND': 'noninteractive'}
    process.run(layout, 'apt-get update', ['apt-get', 'update', '-q'],
                env=env, log_name='apt')
    process.run(layout, 'apt-get install',
                ['apt-get', 'install', '-y', '-q', '--no-install-recommends']
                + missing, env=env, log_name='apt')
    still = missing_packages()
    if still:
        raise errors.MissingPackages(packages=' '.join(still))


# -- RabbitMQ ----------------------------------------------------------------

def rabbitmq_services(layout):
    """epmd and the RabbitMQ node, private to the sandbox.

    epmd is started on its own port and in the foreground, so it belongs
    to the sandbox (a node would otherwise start a shared daemon on 4369).
    """
    base = layout.path('rabbitmq')
    os.makedirs(base, exist_ok=True)
    plugins_file = os.path.join(base, 'enabled_plugins')
    if not os.path.exists(plugins_file):
        with open(plugins_file, 'w') as handle:
            handle.write('[].\n')
    env = rabbitmq_env(layout)
    epmd = process.Service(layout, 'epmd', [
        shutil.which('epmd') or 'epmd', '-port', str(layout.port('epmd')),
        '-address', '127.0.0.1'], env=env, cwd=base,
        port=layout.port('epmd'))
    node = process.Service(
        layout, 'rabbitmq', [os.path.join(RABBITMQ_BIN, 'rabbitmq-server')],
        env=env, cwd=base, port=layout.port('rabbitmq'))
    return epmd, node


def rabbitmq_env(layout):
    base = layout.path('rabbitmq')
    return {
        'HOME': base,  # the Erlang cookie
        'ERL_EPMD_PORT': str(layout.port('epmd')),
        'ERL_EPMD_ADDRESS': '127.0.0.1',
        'RABBITMQ_NODENAME': 'sandbox@localhost',
        'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
        'RABBITMQ_NODE_PORT': str(layout.port('rabbitmq')),
        'RABBITMQ_DIST_PORT': str(layout.port('rabbitmq_dist')),
        'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
        'RABBITMQ_LOG_BASE': os.path.join(base, 'log'),
        'RABBITMQ_LOGS': '-',
        'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(base,
                                                      'enabled_plugins'),
        'RABBITMQ_CONFIG_FILE': os.path.join(base, 'rabbitmq'),
        'RABBITMQ_ADVANCED_CONFIG_FILE': os.path.join(base,
                                                      'advanced.config'),
        'RABBITMQ_CONF_ENV_FILE': os.path.join(base, 'rabbitmq-env.conf'),
        'RABBITMQ_PID_FILE': os.path.join(base, 'rabbitmq.pid'),
    }


# -- PostgreSQL --------------------------------------------------------------

def postgres_service(layout):
    """A private PostgreSQL cluster in ``DIR/postgres``.

    ``initdb`` refuses to run as root: the cluster belongs to the
    ``postgres`` system user, and so does the server process.
    """
    bindir = _postgres_bindir()
    data = layout.path('postgres', 'data')
    user = pwd.getpwnam(POSTGRES_USER)
    as_postgres = ([] if os.geteuid() == user.pw_uid
                   else ['runuser', '-u', POSTGRES_USER, '--'])
    if not os.path.exists(os.path.join(data, 'PG_VERSION')):
        os.makedirs(data, exist_ok=True)
        if os.geteuid() == 0:
            # The postgres user must be able to enter DIR (mkdtemp: 0700).
            os.chmod(layout.dir, os.stat(layout.dir).st_mode | 0o111)
            for path in (layout.path('postgres'), data):
                os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(data, 0o700)
        _check_traversable(layout, data)
        process.run(layout, 'initdb', as_postgres + [
            os.path.join(bindir, 'initdb'), '-D', data, '-A', 'trust',
            '-U', POSTGRES_USER, '-E', 'UTF8', '--no-sync'],
            log_name='postgres-setup', cwd=data)
    return process.Service(layout, 'postgres', as_postgres + [
        os.path.join(bindir, 'postgres'), '-D', data,
        '-k', layout.path('postgres'), '-p', str(layout.port('postgres')),
        '-h', '127.0.0.1', '-c', 'fsync=off',
        '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        cwd=data, port=layout.port('postgres'))


def _check_traversable(layout, data):
    """The postgres user must reach ``data`` through the directory tree."""
    probe = ['runuser', '-u', POSTGRES_USER, '--', 'test', '-w', data]
    if os.geteuid() != 0:
        return
    if subprocess.run(probe).returncode:
        raise errors.StepFailed(
            step='PostgreSQL data directory',
            reason='the postgres user cannot write %s (a parent directory '
                   'is not searchable by others); use a --dir elsewhere, '
                   'e.g. under /tmp or /var/tmp' % data,
            log=layout.log('postgres-setup'))


def postgres_url(layout, database=GNOCCHI_DATABASE):
    return 'postgresql://%s@127.0.0.1:%d/%s' % (
        POSTGRES_USER, layout.port('postgres'), database)


def create_database(layout, database=GNOCCHI_DATABASE):
    """Create ``database`` unless it exists."""
    import psycopg2

    try:
        conn = psycopg2.connect(host='127.0.0.1', port=layout.port('postgres'),
                                user=POSTGRES_USER, dbname='postgres')
    except psycopg2.Error as exc:
        raise errors.StepFailed(step='connecting to PostgreSQL',
                                reason=str(exc).strip(),
                                log=layout.log('postgres'))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute('SELECT 1 FROM pg_database WHERE datname = %s',
                           (database,))
            if not cursor.fetchone():
                cursor.execute('CREATE DATABASE %s' % database)
    finally:
        conn.close()
