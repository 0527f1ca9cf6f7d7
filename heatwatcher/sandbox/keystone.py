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
"""Keystone on SQLite, served by uWSGI, with the sandbox's catalog."""

import os
import sys

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

from heatwatcher.sandbox import config
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

# service type -> (service name, sandbox port name, URL path)
CATALOG = (
    ('infra-optim', 'watcher', 'watcher', ''),
    ('metric', 'gnocchi', 'gnocchi', ''),
    ('compute', 'nova', 'nova', '/v2.1'),
    ('placement', 'placement', 'placement', ''),
)


def _config_file(layout):
    return layout.path('keystone', 'keystone.conf')


def configure(layout):
    """Write keystone.conf and set up the database, keys and admin."""
    base = layout.path('keystone')
    os.makedirs(base, exist_ok=True)
    conf = _config_file(layout)
    config.write_ini(conf, {
        'DEFAULT': {'use_stderr': True},
        'database': {'connection': 'sqlite:///%s'
                     % os.path.join(base, 'keystone.sqlite')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': os.path.join(base, 'fernet')},
        'credential': {'key_repository': os.path.join(base, 'credential')},
        'cache': {'enabled': False},
    })
    manage = [sandbox_layout.bin_path('keystone-manage'), '--config-file',
              conf]
    user = str(os.getuid())
    group = str(os.getgid())
    for step, args in (
            ('keystone-manage db_sync', ['db_sync']),
            ('keystone-manage fernet_setup',
             ['fernet_setup', '--keystone-user', user,
              '--keystone-group', group]),
            ('keystone-manage credential_setup',
             ['credential_setup', '--keystone-user', user,
              '--keystone-group', group]),
            ('keystone-manage bootstrap',
             ['bootstrap', '--bootstrap-password', layout.password,
              '--bootstrap-username', sandbox_layout.ADMIN_USER,
              '--bootstrap-project-name', sandbox_layout.ADMIN_PROJECT,
              '--bootstrap-role-name', 'admin',
              '--bootstrap-service-name', 'keystone',
              '--bootstrap-region-id', sandbox_layout.REGION,
              '--bootstrap-admin-url', layout.auth_url,
              '--bootstrap-public-url', layout.auth_url,
              '--bootstrap-internal-url', layout.auth_url])):
        process.run(layout, step, manage + args, log_name='keystone-setup')


def service(layout):
    """Keystone's public API under uWSGI."""
    return process.Service(layout, 'keystone', [
        sandbox_layout.bin_path('uwsgi'),
        '--http-socket', '127.0.0.1:%d' % layout.port('keystone'),
        '--wsgi', 'keystone.wsgi.api', '--master', '--processes', '2',
        '--threads', '2', '--die-on-term', '--need-app',
        # --http-socket has no keep-alive: tell clients not to reuse.
        '--add-header', 'Connection: close',
        '-H', sys.prefix, '--chdir', layout.path('keystone')],
        env={'OS_KEYSTONE_CONFIG_FILES': _config_file(layout)},
        port=layout.port('keystone'))


def ready(layout):
    """True when Keystone answers its version document."""
    return requests.get(layout.auth_url, timeout=5).status_code == 200


def admin_session(layout):
    """A keystoneauth session as the sandbox's admin."""
    options = layout.auth_options()
    options.pop('auth_type')
    return ks_session.Session(auth=v3.Password(**options))


def register_catalog(layout):
    """Add the services and public endpoints of the sandbox's catalog."""
    sess = admin_session(layout)
    url = layout.auth_url
    try:
        have = {svc['type'] for svc in sess.get(
            url + '/services').json()['services']}
        for service_type, name, port_name, suffix in CATALOG:
            if service_type in have:
                continue
            created = sess.post(url + '/services', json={'service': {
                'type': service_type, 'name': name, 'enabled': True}})
            service_id = created.json()['service']['id']
            for interface in ('public', 'internal', 'admin'):
                sess.post(url + '/endpoints', json={'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': sandbox_layout.REGION,
                    'url': layout.url(port_name, suffix)}})
    except (ks_exc.ClientException, KeyError, ValueError) as exc:
        raise errors.StepFailed(step='registering the catalog',
                                reason=str(exc), log=layout.log('keystone'))
