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
"""Gnocchi: PostgreSQL indexer, file storage, Keystone authentication.

The archive policy keeps 5-minute points for 15 days, longer than the
14-day forecast window, with the aggregates Watcher's Gnocchi datasource
asks for (``mean``, and ``rate:mean`` for the instance CPU counter).
"""

import os

import requests

from heatwatcher.sandbox import config
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import infra
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

ARCHIVE_POLICY = {
    'name': 'heatwatcher-sandbox',
    'back_window': 0,
    'aggregation_methods': ['mean', 'min', 'max', 'rate:mean'],
    'definition': [{'granularity': '300s', 'timespan': '15 days'}],
}

# Ceilometer's resource types, reduced to the attributes written here.
RESOURCE_TYPES = {
    'instance': ('display_name', 'host', 'flavor_name', 'flavor_id',
                 'image_ref', 'server_group'),
    'host': ('host_name',),
}


def _config_file(layout):
    return layout.path('gnocchi', 'gnocchi.conf')


def _paste_config(layout):
    """Gnocchi's api-paste.ini, its auth_token filter reading our conf.

    The shipped filter names only ``oslo_config_project = gnocchi``, so
    keystonemiddleware would look for /etc/gnocchi/gnocchi.conf.
    """
    import gnocchi.rest

    source = os.path.join(os.path.dirname(gnocchi.rest.__file__),
                          'api-paste.ini')
    with open(source) as handle:
        text = handle.read()
    marker = 'oslo_config_project = gnocchi'
    text = text.replace(marker, '%s\noslo_config_file = %s'
                        % (marker, _config_file(layout)))
    path = layout.path('gnocchi', 'api-paste.ini')
    with open(path, 'w') as handle:
        handle.write(text)
    return path


def configure(layout):
    """Write gnocchi.conf, create the indexer database, run the upgrade."""
    base = layout.path('gnocchi')
    os.makedirs(os.path.join(base, 'storage'), exist_ok=True)
    paste = _paste_config(layout)
    auth = layout.auth_options()
    auth.update({'www_authenticate_uri': layout.auth_url,
                 'service_token_roles_required': True})
    config.write_ini(_config_file(layout), {
        'DEFAULT': {'use_stderr': True},
        'api': {'auth_mode': 'keystone', 'host': '127.0.0.1',
                'port': layout.port('gnocchi'), 'uwsgi_mode': 'http',
                'uwsgi_path': sandbox_layout.bin_path('uwsgi'),
                'paste_config': paste},
        'indexer': {'url': infra.postgres_url(layout)},
        'storage': {'driver': 'file',
                    'file_basepath': os.path.join(base, 'storage')},
        'incoming': {'driver': 'file',
                     'file_basepath': os.path.join(base, 'storage')},
        'metricd': {'workers': 1, 'metric_processing_delay': 5},
        'keystone_authtoken': auth,
    })
    infra.create_database(layout)
    process.run(layout, 'gnocchi-upgrade', [
        sandbox_layout.bin_path('gnocchi-upgrade'), '--config-file',
        _config_file(layout), '--sacks-number', '8'],
        log_name='gnocchi-setup')


def services(layout):
    """gnocchi-api (uWSGI, which it execs) and gnocchi-metricd."""
    conf = _config_file(layout)
    env = {'VIRTUAL_ENV': os.path.dirname(os.path.dirname(
        sandbox_layout.bin_path('python')))}
    api = process.Service(layout, 'gnocchi-api', [
        sandbox_layout.bin_path('gnocchi-api'), '--config-file', conf],
        env=env, port=layout.port('gnocchi'), cwd=layout.path('gnocchi'))
    metricd = process.Service(layout, 'gnocchi-metricd', [
        sandbox_layout.bin_path('gnocchi-metricd'), '--config-file', conf],
        cwd=layout.path('gnocchi'))
    return api, metricd


def ready(layout):
    """True when gnocchi-api answers its root document."""
    return requests.get(layout.url('gnocchi'), timeout=5).status_code == 200


def _check(response, step, layout, allowed=(409,)):
    if response.status_code >= 400 and response.status_code not in allowed:
        raise errors.StepFailed(step=step, reason='HTTP %d %s' % (
            response.status_code, response.text[:300]),
            log=layout.log('gnocchi-api'))
    return response


def prepare(layout, sess):
    """Create the archive policy and the resource types (idempotent)."""
    url = layout.url('gnocchi', '/v1')
    _check(sess.post(url + '/archive_policy', json=ARCHIVE_POLICY,
                     raise_exc=False), 'creating the archive policy', layout)
    for name, attributes in RESOURCE_TYPES.items():
        body = {'name': name, 'attributes': {
            attr: {'type': 'string', 'required': False, 'max_length': 255}
            for attr in attributes}}
        _check(sess.post(url + '/resource_type', json=body,
                         raise_exc=False),
               'creating resource type %s' % name, layout)
