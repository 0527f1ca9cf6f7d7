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
"""Watcher: API, decision engine and applier, as separate processes over
RabbitMQ, with Keystone authentication, the Gnocchi datasource and
heatwatcher's ``heat_guarded`` workflow engine.

The database is a PostgreSQL database of the sandbox's cluster, built with
``create_schema``. SQLite (even in WAL mode) fails under the applier's
parallel action updates with "database is locked", and its ``upgrade``
fails at migration ``d098df6021e2``.
"""

import os

from heatwatcher.sandbox import config
from heatwatcher.sandbox import infra
from heatwatcher.sandbox import ironic
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

# How often the decision engine rebuilds its compute model from Nova (s).
# The emulators send no notifications: after an action plan, the next
# audit sees the new placement only once the model has been rebuilt.
MODEL_PERIOD = 30

DATABASE = 'watcher'
PARALLEL_ACTIONS = 8
CLIENT_GROUPS = ('watcher_clients_auth', 'nova', 'placement', 'ironic',
                 'cinder')


def config_file(layout):
    return layout.path('watcher', 'watcher.conf')


def _strategy_sections(doc):
    """The snapshot's strategy options as ``[watcher_strategies.NAME]``."""
    return {'watcher_strategies.%s' % name: dict(options)
            for name, options in (doc.get('options') or {}).items()}


def configure(layout, doc):
    """Write watcher.conf and build the database."""
    base = layout.path('watcher')
    os.makedirs(os.path.join(base, 'locks'), exist_ok=True)
    infra.create_database(layout, DATABASE)
    auth = layout.auth_options()
    sections = {
        'DEFAULT': {'transport_url': layout.transport_url,
                    'use_stderr': True, 'debug': False},
        'api': {'host': '127.0.0.1', 'port': layout.port('watcher'),
                'workers': 1},
        'database': {'connection': infra.postgres_url(
            layout, DATABASE).replace('postgresql:', 'postgresql+psycopg2:')},
        'keystone_authtoken': dict(auth, www_authenticate_uri=(
            layout.auth_url), service_token_roles_required=True),
        'oslo_concurrency': {'lock_path': os.path.join(base, 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        'watcher_datasources': {'datasources': 'gnocchi'},
        'gnocchi_client': {'endpoint_type': 'public',
                           'region_name': sandbox_layout.REGION},
        'collector': {'collector_plugins': 'compute'},
        'watcher_cluster_data_model_collectors.compute': {
            'period': MODEL_PERIOD},
        'watcher_applier': {'workflow_engine': 'heat_guarded'},
        # As many workers as the planner runs migrations at once (the
        # default is the number of CPUs: two here).
        'watcher_workflow_engines.heat_guarded': {
            'max_workers': PARALLEL_ACTIONS},
        'heatwatcher': {'state_path': os.path.join(base, 'state')},
    }
    for group in CLIENT_GROUPS:
        sections[group] = dict(auth, region_name=sandbox_layout.REGION,
                               valid_interfaces='public')
    sections['watcher_clients_auth'].pop('valid_interfaces')
    # The emulated Nova migrates at once: poll it often, not every 5 s.
    sections['nova']['migration_interval'] = 0.5
    sections.update(ironic.watcher_sections())
    sections.update(_strategy_sections(doc))
    config.write_ini(config_file(layout), sections)
    process.run(layout, 'watcher-db-manage create_schema', [
        sandbox_layout.bin_path('watcher-db-manage'), '--config-file',
        config_file(layout), 'create_schema'], log_name='watcher-setup')


def services(layout):
    """watcher-api (its WSGI script), decision engine and applier."""
    conf = config_file(layout)
    cwd = layout.path('watcher')
    api = process.Service(layout, 'watcher-api', [
        sandbox_layout.bin_path('watcher-api-wsgi'), '--host', '127.0.0.1',
        '--port', str(layout.port('watcher')), '--', '--config-file', conf],
        port=layout.port('watcher'), cwd=cwd)
    engine = process.Service(layout, 'watcher-decision-engine', [
        sandbox_layout.bin_path('watcher-decision-engine'), '--config-file',
        conf], cwd=cwd)
    applier = process.Service(layout, 'watcher-applier', [
        sandbox_layout.bin_path('watcher-applier'), '--config-file', conf],
        cwd=cwd)
    return api, engine, applier


def goals(layout, sess):
    """Names of the goals the API lists (synced by the decision engine)."""
    response = sess.get(layout.url('watcher', '/v1/goals'), raise_exc=False)
    if response.status_code != 200:
        return set()
    return {goal['name'] for goal in response.json()['goals']}


def log_contains(layout, name, text):
    try:
        with open(layout.log(name), errors='replace') as handle:
            return text in handle.read()
    except OSError:
        return False
