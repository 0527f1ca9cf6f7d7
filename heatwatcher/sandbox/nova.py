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
"""Real Nova and Placement (``heatwatcher sandbox up --nova real``).

``openstack-placement`` and ``nova`` from PyPI, on the sandbox's PostgreSQL
(databases ``placement``, ``nova_api``, ``nova_cell0``, ``nova_cell1``) and
RabbitMQ, with service users ``nova`` and ``placement`` in its Keystone:

* ``placement`` and ``nova`` (the compute API): uWSGI on the ports the
  emulators use otherwise, so the catalog is the same;
* ``nova-conductor`` and ``nova-scheduler``;
* ``nova-compute-HOST``: one ``nova-compute`` per snapshot host, with
  ``host = HOST`` and :class:`heatwatcher.sandbox.fakevirt.
  SnapshotFakeDriver` (Nova's fake driver), which reports that host's
  vCPUs, RAM and disk;
  allocation ratios and reservations from the snapshot too.

Cells are set up as ``nova-manage`` expects (``api_db sync``, ``cell_v2
map_cell0``, ``create_cell``, ``db sync``, ``discover_hosts``). The
snapshot's instances are then booted through Nova's API: a flavor per
size, each server on its snapshot host (microversion 2.74 ``host``, so the
scheduler and Placement check and claim it), with its metadata; stopped
ones are stopped. Nova gives the servers new UUIDs: the snapshot is
rewritten with them (``DIR/nova/snapshot.json``) for the telemetry.

Booting needs an image and, for Nova's conductor, a network API. The fake
driver reads neither, so ``image-network`` serves the few Glance and
Neutron read calls Nova makes: one image, no ports, no networks (servers
are booted with ``networks: none``). Watcher and heatwatcher never call it.
"""

import concurrent.futures
import copy
import os
import sys
import time
import uuid

from keystoneauth1 import exceptions as ks_exc

from heatwatcher.sandbox import config
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import fakevirt
from heatwatcher.sandbox import infra
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

DATABASES = ('placement', 'nova_api', 'nova_cell0', 'nova_cell1')
SERVICE_PROJECT = 'service'
SERVICE_USERS = ('nova', 'placement')
IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, 'heatwatcher-sandbox:image'))
# 2.74: ``host`` when booting; the scheduler checks it, Placement claims.
BOOT_MICROVERSION = '2.74'
BOOT_PARALLEL = 4
BOOT_TIMEOUT = 900
# Snapshot instance states Nova's API can put a server in here.
STOPPED_STATES = ('stopped',)

API_PASTE = """\
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2: oscomputeversion_legacy_v2
/v2.1: openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = compute_req_id faultwrap request_log sizelimit authtoken \
keystonecontext osapi_compute_app_v21

[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[pipeline:oscomputeversions]
pipeline = faultwrap request_log oscomputeversionapp

[pipeline:oscomputeversion_legacy_v2]
pipeline = compute_req_id faultwrap request_log oscomputeversionapp_v2

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory

[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
"""


def compute_service_name(host_name):
    return 'nova-compute-%s' % host_name


def _db_url(layout, database):
    return infra.postgres_url(layout, database).replace(
        'postgresql:', 'postgresql+psycopg2:')


def _conf(layout, name):
    return layout.path('nova', name)


def _service_auth(layout, user):
    auth = layout.auth_options()
    auth.update(username=user, project_name=SERVICE_PROJECT)
    return auth


# -- Keystone ----------------------------------------------------------------

def create_service_users(layout, sess):
    """Project ``service``, users ``nova`` and ``placement`` (admin)."""
    url = layout.auth_url

    def first(kind, name):
        found = sess.get(url + '/%s?name=%s' % (kind, name)).json()[kind]
        return found[0]['id'] if found else None

    try:
        project = first('projects', SERVICE_PROJECT) or sess.post(
            url + '/projects', json={'project': {
                'name': SERVICE_PROJECT, 'domain_id': 'default'}}
        ).json()['project']['id']
        role = first('roles', 'admin')
        for name in SERVICE_USERS:
            user = first('users', name) or sess.post(url + '/users', json={
                'user': {'name': name, 'domain_id': 'default',
                         'password': layout.password,
                         'default_project_id': project}}
            ).json()['user']['id']
            sess.put(url + '/projects/%s/users/%s/roles/%s'
                     % (project, user, role))
    except (ks_exc.ClientException, KeyError, ValueError, IndexError) as exc:
        raise errors.StepFailed(step='creating the nova and placement users',
                                reason=str(exc), log=layout.log('keystone'))


# -- configuration -----------------------------------------------------------

def _authtoken(layout, user):
    return dict(_service_auth(layout, user),
                www_authenticate_uri=layout.auth_url,
                service_token_roles_required=True)


def _client(layout, **extra):
    return dict(_service_auth(layout, 'nova'),
                region_name=sandbox_layout.REGION, **extra)


def nova_sections(layout):
    """nova.conf, shared by every Nova service."""
    base = layout.path('nova')
    emulator = layout.url('image_network')
    return {
        'DEFAULT': {
            'transport_url': layout.transport_url,
            'use_stderr': True, 'debug': False,
            'my_ip': sandbox_layout.HOST,
            'state_path': os.path.join(base, 'state'),
            'reserved_host_memory_mb': 0, 'reserved_host_disk_mb': 0,
            'reserved_host_cpus': 0,
            'heal_instance_info_cache_interval': -1,
            'vif_plugging_is_fatal': False, 'vif_plugging_timeout': 0,
            'instance_usage_audit': False,
        },
        'api': {'auth_strategy': 'keystone'},
        'wsgi': {'api_paste_config': _conf(layout, 'api-paste.ini')},
        'api_database': {'connection': _db_url(layout, 'nova_api')},
        'database': {'connection': _db_url(layout, 'nova_cell1')},
        'keystone_authtoken': _authtoken(layout, 'nova'),
        'placement': _client(layout, valid_interfaces='public'),
        'neutron': _client(layout, endpoint_override=emulator + '/network'),
        'glance': {'endpoint_override': emulator + '/image',
                   'region_name': sandbox_layout.REGION},
        'oslo_concurrency': {'lock_path': os.path.join(base, 'locks')},
        # Versioned notifications, as a deployment sends them: Watcher's
        # decision engine listens to them to update its model.
        'oslo_messaging_notifications': {'driver': 'messagingv2'},
        'notifications': {'notification_format': 'versioned'},
        'scheduler': {'discover_hosts_in_cells_interval': -1,
                      'workers': 1},
        'conductor': {'workers': 1},
        'quota': {'driver': 'nova.quota.NoopQuotaDriver'},
        'vnc': {'enabled': False},
        'service_user': {'send_service_user_token': False},
    }


def compute_sections(layout, host):
    """The per-host config of ``nova-compute-HOST`` (after nova.conf)."""
    base = layout.path('nova', 'compute', host['name'])
    return {'DEFAULT': {
        'host': host['name'],
        'compute_driver': fakevirt.DRIVER,
        # compute_id (the node's stable UUID) lives in state_path.
        'state_path': base,
        'instances_path': os.path.join(base, 'instances'),
        'cpu_allocation_ratio': host.get('vcpu_ratio', 1.0),
        'ram_allocation_ratio': host.get('memory_ratio', 1.0),
        'disk_allocation_ratio': host.get('disk_ratio', 1.0),
        'reserved_host_cpus': host.get('vcpu_reserved', 0),
        'reserved_host_memory_mb': host.get('memory_mb_reserved', 0),
        'reserved_host_disk_mb': host.get('disk_gb_reserved', 0) * 1024,
    }}


def placement_sections(layout):
    return {
        'DEFAULT': {'use_stderr': True, 'debug': False},
        'api': {'auth_strategy': 'keystone'},
        'placement_database': {'connection': _db_url(layout, 'placement')},
        'keystone_authtoken': _authtoken(layout, 'placement'),
    }


def configure(layout, doc, sess):
    """Databases, users, config files; the schemas and cells."""
    base = layout.path('nova')
    for sub in ('state', 'locks', 'placement', 'compute'):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    for database in DATABASES:
        infra.create_database(layout, database)
    create_service_users(layout, sess)
    with open(_conf(layout, 'api-paste.ini'), 'w') as handle:
        handle.write(API_PASTE)
    config.write_ini(_conf(layout, 'nova.conf'), nova_sections(layout))
    config.write_ini(_conf(layout, os.path.join('placement',
                                                'placement.conf')),
                     placement_sections(layout))
    for host in doc['hosts']:
        os.makedirs(layout.path('nova', 'compute', host['name']),
                    exist_ok=True)
        config.write_ini(_compute_conf(layout, host['name']),
                         compute_sections(layout, host))
    manage = [sandbox_layout.bin_path('nova-manage'), '--config-file',
              _conf(layout, 'nova.conf')]
    process.run(layout, 'placement-manage db sync', [
        sandbox_layout.bin_path('placement-manage'), '--config-file',
        _conf(layout, os.path.join('placement', 'placement.conf')),
        'db', 'sync'], log_name='nova-setup')
    for step, args in (
            ('nova-manage api_db sync', ['api_db', 'sync']),
            ('nova-manage cell_v2 map_cell0',
             ['cell_v2', 'map_cell0', '--database_connection',
              _db_url(layout, 'nova_cell0')]),
            ('nova-manage cell_v2 create_cell',
             ['cell_v2', 'create_cell', '--name', 'cell1']),
            ('nova-manage db sync', ['db', 'sync'])):
        process.run(layout, step, manage + args, log_name='nova-setup')


def _compute_conf(layout, host_name):
    return layout.path('nova', 'compute', host_name, 'compute.conf')


# -- services ----------------------------------------------------------------

def _uwsgi(layout, name, module, port, env):
    return process.Service(layout, name, [
        sandbox_layout.bin_path('uwsgi'),
        '--http-socket', '%s:%d' % (sandbox_layout.HOST, port),
        '--wsgi', module, '--master', '--processes', '1',
        '--threads', '4', '--lazy-apps', '--die-on-term', '--need-app',
        '--add-header', 'Connection: close',
        '-H', sys.prefix, '--chdir', layout.path('nova')],
        env=env, port=port, cwd=layout.path('nova'))


def api_services(layout):
    """The image-network emulator, placement-api and nova-api."""
    emulator = process.Service(layout, 'image-network', [
        sys.executable, '-m', 'heatwatcher.sandbox.nova',
        str(layout.port('image_network'))],
        port=layout.port('image_network'), cwd=layout.path('nova'))
    placement = _uwsgi(layout, 'placement', 'placement.wsgi.api',
                       layout.port('placement'), {
                           'OS_PLACEMENT_CONFIG_DIR':
                               layout.path('nova', 'placement')})
    api = _uwsgi(layout, 'nova', 'nova.wsgi.osapi_compute',
                 layout.port('nova'), {
                     'OS_NOVA_CONFIG_DIR': layout.path('nova'),
                     'OS_NOVA_CONFIG_FILES': 'api-paste.ini;nova.conf'})
    return emulator, placement, api


def control_services(layout):
    conf = _conf(layout, 'nova.conf')
    return [process.Service(layout, name, [
        sandbox_layout.bin_path(name), '--config-file', conf],
        cwd=layout.path('nova')) for name in ('nova-conductor',
                                              'nova-scheduler')]


def compute_service(layout, host):
    """``nova-compute`` standing for snapshot ``host``."""
    return process.Service(layout, compute_service_name(host['name']), [
        sys.executable, '-m', 'heatwatcher.sandbox.fakevirt', '--config-file',
        _conf(layout, 'nova.conf'), '--config-file',
        _compute_conf(layout, host['name'])],
        env=fakevirt.environment(host),
        cwd=layout.path('nova', 'compute', host['name']))


# -- readiness ---------------------------------------------------------------

def _get(sess, url, **kwargs):
    return sess.get(url, raise_exc=False, **kwargs)


def compute_url(layout, path):
    return layout.url('nova', '/v2.1' + path)


def api_answers(layout, sess, name):
    if name == 'nova':
        return _get(sess, compute_url(layout, '/flavors')).status_code == 200
    return _get(sess, layout.url('placement', '/resource_providers'),
                headers={'OpenStack-API-Version': 'placement 1.10'}
                ).status_code == 200


def hypervisors(layout, sess):
    """{hypervisor hostname: hypervisor} as the compute API lists them."""
    response = _get(sess, compute_url(layout, '/os-hypervisors/detail'),
                    headers={'OpenStack-API-Version': 'compute 2.53'})
    if response.status_code != 200:
        return {}
    return {hyp['hypervisor_hostname']: hyp
            for hyp in response.json()['hypervisors']}


def providers_with_inventory(layout, sess):
    """Names of the resource providers with a VCPU inventory."""
    headers = {'OpenStack-API-Version': 'placement 1.10'}
    response = _get(sess, layout.url('placement', '/resource_providers'),
                    headers=headers)
    if response.status_code != 200:
        return set()
    names = set()
    for provider in response.json()['resource_providers']:
        inventories = _get(sess, layout.url(
            'placement', '/resource_providers/%s/inventories'
            % provider['uuid']), headers=headers).json()['inventories']
        if 'VCPU' in inventories:
            names.add(provider['name'])
    return names


def _wait(check, timeout, step, log, interval=2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise errors.StepFailed(step=step, reason='not done after %d s'
                            % timeout, log=log)


def start(layout, doc, sess, start_service, progress):
    """Start Placement and Nova; discover the computes; boot the servers.

    :returns: ``(doc, path)``: the snapshot with Nova's server UUIDs, and
        the file it is written to (``DIR/nova/snapshot.json``).
    """
    configure(layout, doc, sess)
    progress('nova and placement databases synced, cells mapped')
    emulator, placement, api = api_services(layout)
    for service in (emulator, placement, api):
        start_service(service)
    emulator.wait(timeout=60)
    placement.wait(lambda: api_answers(layout, sess, 'placement'),
                   timeout=180)
    api.wait(lambda: api_answers(layout, sess, 'nova'), timeout=300)
    progress('placement and nova-api up at %s, %s'
             % (layout.url('placement'), layout.url('nova')))
    for service in control_services(layout):
        start_service(service)
    for host in doc['hosts']:
        start_service(compute_service(layout, host))
    names = {host['name'] for host in doc['hosts']}
    _wait(lambda: names <= providers_with_inventory(layout, sess),
          timeout=600, step='waiting for the nova-compute services to '
          'report their inventory to Placement',
          log=layout.log(compute_service_name(doc['hosts'][0]['name'])))
    process.run(layout, 'nova-manage cell_v2 discover_hosts', [
        sandbox_layout.bin_path('nova-manage'), '--config-file',
        _conf(layout, 'nova.conf'), 'cell_v2', 'discover_hosts',
        '--verbose'], log_name='nova-setup')
    _wait(lambda: names <= set(hypervisors(layout, sess)), timeout=120,
          step='waiting for the hypervisors', log=layout.log('nova'))
    progress('%d nova-compute services up (fake driver), hosts discovered'
             % len(names))
    mapped = boot_servers(layout, sess, doc, progress)
    path = layout.path('nova', 'snapshot.json')
    from heatwatcher.snapshot import load
    load.dump(mapped, path)
    return mapped, path


def compute_hosts(layout, sess, doc):
    """(hostname, hypervisor id) of each snapshot host, from Nova."""
    found = hypervisors(layout, sess)
    return [(host['name'], found[host['name']]['id'])
            for host in doc['hosts']]


# -- servers -----------------------------------------------------------------

def _request(sess, method, url, layout, step, ok=(200, 201, 202, 204),
             **kwargs):
    response = sess.request(url, method, raise_exc=False, **kwargs)
    if response.status_code not in ok:
        raise errors.StepFailed(step=step, reason='%s %s: %d %s' % (
            method, url, response.status_code, response.text[:500]),
            log=layout.log('nova'))
    return response


def flavor_name(inst):
    return 'hw-%dc-%dm-%dg' % (inst['vcpus'], inst['memory_mb'],
                               inst['disk_gb'])


def create_flavors(layout, sess, instances):
    """One public flavor per instance size; {name: id}."""
    have = {flavor['name']: flavor['id'] for flavor in _request(
        sess, 'GET', compute_url(layout, '/flavors?is_public=None'), layout,
        'listing flavors').json()['flavors']}
    for inst in instances:
        name = flavor_name(inst)
        if name in have:
            continue
        created = _request(sess, 'POST', compute_url(layout, '/flavors'),
                           layout, 'creating flavor %s' % name, json={
                               'flavor': {'name': name,
                                          'vcpus': inst['vcpus'],
                                          'ram': inst['memory_mb'],
                                          'disk': inst['disk_gb']}})
        have[name] = created.json()['flavor']['id']
    return have


def _boot(layout, sess, inst, flavors):
    headers = {'OpenStack-API-Version': 'compute %s' % BOOT_MICROVERSION}
    body = {'server': {
        'name': inst['name'], 'imageRef': IMAGE_ID,
        'flavorRef': flavors[flavor_name(inst)], 'networks': 'none',
        'host': inst['host'],
        'metadata': dict(inst.get('metadata') or {})}}
    response = _request(sess, 'POST', compute_url(layout, '/servers'),
                        layout, 'booting %s on %s' % (inst['name'],
                                                      inst['host']),
                        json=body, headers=headers)
    return response.json()['server']['id']


def servers(layout, sess):
    """Every server as the compute API lists it (all projects)."""
    found = []
    url = compute_url(layout, '/servers/detail?all_tenants=1&limit=1000')
    headers = {'OpenStack-API-Version': 'compute 2.74'}
    while url:
        page = _request(sess, 'GET', url, layout, 'listing servers',
                        headers=headers).json()
        found.extend(page['servers'])
        url = next((link['href'] for link in page.get('servers_links', [])
                    if link['rel'] == 'next'), None)
    return found


def _wait_servers(layout, sess, ids, status, what):
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        by_id = {server['id']: server for server in servers(layout, sess)}
        failed = [server for uid, server in by_id.items()
                  if uid in ids and server['status'] == 'ERROR']
        if failed:
            raise errors.StepFailed(
                step=what, reason='server %s in ERROR: %s' % (
                    failed[0]['name'], failed[0].get('fault')),
                log=layout.log('nova-conductor'))
        pending = [uid for uid in ids
                   if by_id.get(uid, {}).get('status') != status]
        if not pending:
            return by_id
        if time.monotonic() > deadline:
            raise errors.StepFailed(step=what, reason='%d servers not %s '
                                    'after %d s' % (len(pending), status,
                                                    BOOT_TIMEOUT),
                                    log=layout.log('nova-conductor'))
        time.sleep(3)


def boot_servers(layout, sess, doc, progress):
    """Boot the snapshot's instances; the snapshot with Nova's UUIDs."""
    flavors = create_flavors(layout, sess, doc['instances'])
    with concurrent.futures.ThreadPoolExecutor(BOOT_PARALLEL) as pool:
        ids = list(pool.map(lambda inst: _boot(layout, sess, inst, flavors),
                            doc['instances']))
    by_id = _wait_servers(layout, sess, ids, 'ACTIVE', 'booting servers')
    for inst, uid in zip(doc['instances'], ids):
        where = by_id[uid]['OS-EXT-SRV-ATTR:host']
        if where != inst['host']:
            raise errors.StepFailed(
                step='booting %s' % inst['name'],
                reason='on %s, not %s' % (where, inst['host']),
                log=layout.log('nova-scheduler'))
    stopped = [uid for inst, uid in zip(doc['instances'], ids)
               if inst.get('state') in STOPPED_STATES]
    for uid in stopped:
        _request(sess, 'POST', compute_url(layout, '/servers/%s/action'
                                           % uid), layout,
                 'stopping server %s' % uid, json={'os-stop': None})
    if stopped:
        _wait_servers(layout, sess, stopped, 'SHUTOFF', 'stopping servers')
    progress('%d servers booted on their snapshot hosts (%d flavors, %d '
             'stopped)' % (len(ids), len(flavors), len(stopped)))
    return remap(doc, dict(zip((inst['uuid'] for inst in doc['instances']),
                               ids)))


def remap(doc, new_ids):
    """``doc`` with instance UUIDs (and their series) renamed."""
    mapped = copy.deepcopy(doc)
    for inst in mapped['instances']:
        inst['uuid'] = new_ids[inst['uuid']]
    for name, series in list(mapped.get('metrics', {}).items()):
        mapped['metrics'][name] = {new_ids.get(key, key): value
                                   for key, value in series.items()}
    return mapped


# -- the image and network emulator ------------------------------------------

IMAGE = {
    'id': IMAGE_ID, 'name': 'heatwatcher-fake', 'status': 'active',
    'visibility': 'public', 'protected': False, 'os_hidden': False,
    'disk_format': 'raw', 'container_format': 'bare', 'size': 1024,
    'virtual_size': 1024, 'min_disk': 0, 'min_ram': 0,
    'checksum': None, 'owner': None, 'tags': [],
    'created_at': '2026-01-01T00:00:00Z',
    'updated_at': '2026-01-01T00:00:00Z',
    'file': '/v2/images/%s/file' % IMAGE_ID,
    'schema': '/v2/schemas/image',
}
IMAGE_SCHEMA = {'name': 'image', 'properties': {
    'id': {'type': 'string'}, 'name': {'type': ['null', 'string']},
    'status': {'type': 'string'}}, 'additionalProperties': True}


def emulator_app(environ, start_response):
    """Glance image reads (one image) and Neutron reads (nothing).

    Under ``/image`` and ``/network``: each has its own version document.
    """
    import json

    path = environ.get('PATH_INFO', '')
    method = environ.get('REQUEST_METHOD', 'GET')
    host = 'http://%s' % environ.get('HTTP_HOST', '')
    status, body = '404 Not Found', {'error': 'not found: %s' % path}
    service, _, path = path.lstrip('/').partition('/')
    path = '/' + path
    if method != 'GET':
        pass
    elif service == 'image':
        if path in ('/', '/versions'):
            status, body = '200 OK', {'versions': [{
                'id': 'v2.9', 'status': 'CURRENT', 'links': [{
                    'rel': 'self', 'href': host + '/image/v2/'}]}]}
        elif path.startswith('/v2/schemas/image'):
            status, body = '200 OK', IMAGE_SCHEMA
        elif path == '/v2/images':
            status, body = '200 OK', {'images': [IMAGE]}
        elif path == '/v2/images/%s' % IMAGE_ID:
            status, body = '200 OK', IMAGE
    elif service == 'network':
        if path == '/':
            status, body = '200 OK', {'versions': [{
                'id': 'v2.0', 'status': 'CURRENT', 'links': [{
                    'rel': 'self', 'href': host + '/network/v2.0/'}]}]}
        elif path.startswith('/v2.0/extensions'):
            status, body = '200 OK', {'extensions': []}
        elif path.startswith('/v2.0/security-groups'):
            status, body = '200 OK', {'security_groups': [{
                'id': IMAGE_ID, 'name': 'default', 'description': '',
                'security_group_rules': []}]}
        elif path.startswith('/v2.0/'):
            # ports, networks, floatingips...: an empty list.
            kind = path[len('/v2.0/'):].split('/')[0].split('.')[0]
            status, body = '200 OK', {kind.replace('-', '_'): []}
    data = json.dumps(body).encode()
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(data)))])
    return [data]


def serve_emulator(port):
    from werkzeug import serving

    serving.run_simple(sandbox_layout.HOST, port, emulator_app,
                       threaded=True)


if __name__ == '__main__':
    serve_emulator(int(sys.argv[1]))
