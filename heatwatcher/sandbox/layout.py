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
"""Where the sandbox keeps its files, and which ports its services use.

Everything lives under one directory::

    DIR/sandbox.json     ports, admin password, the services started
    DIR/pids/NAME.pid    one per service (``down`` stops by these)
    DIR/logs/NAME.log    one per service, and one per set-up command
    DIR/<service>/       each service's configuration and data
"""

import json
import os
import secrets
import socket
import sys

from heatwatcher.sandbox import errors

DEFAULT_DIR = 'heatwatcher-sandbox'
DEFAULT_BASE_PORT = 25000
HOST = '127.0.0.1'
ADMIN_USER = 'admin'
ADMIN_PROJECT = 'admin'
REGION = 'RegionOne'

# Offsets from the base port.
PORT_OFFSETS = {
    'keystone': 0,
    'rabbitmq': 1,
    'rabbitmq_dist': 2,
    'epmd': 3,
    'postgres': 4,
    'gnocchi': 5,
    'nova': 6,
    'placement': 7,
    'watcher': 8,
    'horizon': 9,  # used only with ``up --dashboard``
    'ironic': 10,
    'ironic_rpc': 11,
    'image_network': 12,  # used only with ``up --nova real``
}
PORT_COUNT = max(PORT_OFFSETS.values()) + 1


def port_free(port, host=HOST):
    """True if nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_base_port(start=DEFAULT_BASE_PORT, stop=60000):
    """First base port from ``start`` with all the sandbox's ports free."""
    for base in range(start, stop, PORT_COUNT + 1):
        if all(port_free(base + offset) for offset in PORT_OFFSETS.values()):
            return base
    raise errors.SandboxError(reason='no %d free consecutive ports between '
                                     '%d and %d' % (PORT_COUNT, start, stop))


def bin_path(name):
    """A console script of the Python environment running heatwatcher."""
    return os.path.join(os.path.dirname(sys.executable), name)


class Layout:
    """Paths, ports and credentials of one sandbox directory."""

    def __init__(self, directory, base_port=DEFAULT_BASE_PORT,
                 password=None):
        self.dir = os.path.abspath(directory)
        self.base_port = base_port
        self.password = password or secrets.token_hex(8)

    # -- paths ---------------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def state_file(self):
        return self.path('sandbox.json')

    def log(self, name):
        return self.path('logs', '%s.log' % name)

    def pid_file(self, name):
        return self.path('pids', '%s.pid' % name)

    def make_dirs(self, *names):
        for name in ('logs', 'pids') + names:
            os.makedirs(self.path(name), exist_ok=True)

    # -- ports and URLs ------------------------------------------------------

    def port(self, service):
        return self.base_port + PORT_OFFSETS[service]

    def url(self, service, suffix=''):
        return 'http://%s:%d%s' % (HOST, self.port(service), suffix)

    @property
    def auth_url(self):
        return self.url('keystone', '/v3')

    @property
    def transport_url(self):
        return 'rabbit://guest:guest@%s:%d/' % (HOST, self.port('rabbitmq'))

    def credentials(self):
        """The admin credentials as ``OS_*`` variables."""
        return {
            'OS_AUTH_URL': self.auth_url,
            'OS_USERNAME': ADMIN_USER,
            'OS_PASSWORD': self.password,
            'OS_PROJECT_NAME': ADMIN_PROJECT,
            'OS_USER_DOMAIN_NAME': 'Default',
            'OS_PROJECT_DOMAIN_NAME': 'Default',
            'OS_REGION_NAME': REGION,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_AUTH_TYPE': 'password',
        }

    def auth_options(self):
        """keystoneauth password options, as in a service's config."""
        return {
            'auth_type': 'password',
            'auth_url': self.auth_url,
            'username': ADMIN_USER,
            'password': self.password,
            'project_name': ADMIN_PROJECT,
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
        }

    # -- state file ----------------------------------------------------------

    def save(self, services):
        """Write ``sandbox.json`` with ``services`` ({name: log path})."""
        state = {'base_port': self.base_port, 'password': self.password,
                 'services': services}
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as state_file:
            json.dump(state, state_file, indent=1)
        os.replace(tmp, self.state_file)

    @classmethod
    def load(cls, directory):
        """The layout of an existing sandbox; its services ({name: log})."""
        path = os.path.join(os.path.abspath(directory), 'sandbox.json')
        try:
            with open(path) as state_file:
                state = json.load(state_file)
        except (OSError, ValueError):
            raise errors.NotRunning(path=os.path.abspath(directory))
        layout = cls(directory, state['base_port'], state['password'])
        return layout, state.get('services', {})
