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
"""The pure parts of the sandbox's real Nova and Placement (``up --nova
real``): the configuration of each service (one ``nova-compute`` per
snapshot host), the commands and processes, the flavors and server boot
requests made from the snapshot, and the image and network emulator."""

import configparser
import io
import json
import os
import shutil
import tempfile
import unittest
from unittest import mock
import uuid

from heatwatcher.sandbox import cli
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import fakevirt
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import nova

BASE_PORT = 26000
HOSTS = [
    {'name': 'a-01', 'uuid': 'node-a-01', 'vcpus': 32, 'memory_mb': 262144,
     'disk_gb': 1800, 'vcpu_ratio': 4.0, 'memory_ratio': 1.5,
     'disk_ratio': 2.0, 'vcpu_reserved': 2, 'memory_mb_reserved': 4096,
     'disk_gb_reserved': 10},
    # No ratios or reservations: Nova's neutral values.
    {'name': 'b-01', 'uuid': 'node-b-01', 'vcpus': 64, 'memory_mb': 524288,
     'disk_gb': 3600},
]
INSTANCES = [
    {'uuid': 'snap-1', 'name': 'vm-1', 'host': 'a-01', 'vcpus': 2,
     'memory_mb': 4096, 'disk_gb': 20, 'state': 'active',
     'metadata': {'tier': 'web'}},
    {'uuid': 'snap-2', 'name': 'vm-2', 'host': 'b-01', 'vcpus': 2,
     'memory_mb': 4096, 'disk_gb': 20, 'state': 'stopped'},
    {'uuid': 'snap-3', 'name': 'vm-3', 'host': 'b-01', 'vcpus': 4,
     'memory_mb': 8192, 'disk_gb': 40},
]


def _doc():
    return {'hosts': [dict(host) for host in HOSTS],
            'instances': [dict(inst) for inst in INSTANCES],
            'metrics': {'cpu': {'snap-1': [1.0], 'snap-2': [2.0],
                                'node-a-01': [3.0]}}}


def _read_ini(path):
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    with open(path) as handle:
        parser.read_file(handle)
    return parser


class FakeResponse:
    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self._body = body if body is not None else {}
        self.text = json.dumps(self._body)

    def json(self):
        return self._body


class FakeNova:
    """A keystoneauth-like session answering as Nova's compute API would.

    Servers land where the boot request's ``host`` says, unless
    ``misplace`` sends one elsewhere; ``os-stop`` shuts a server off.
    """

    def __init__(self, layout, flavors=(), page=2, misplace=None,
                 error=None, flavor_status=200):
        self.prefix = nova.compute_url(layout, '')
        self.flavors = {name: 'flavor-%d' % k
                        for k, name in enumerate(flavors)}
        self.servers = {}
        self.calls = []
        self.queries = {}
        self.page = page
        self.misplace = misplace or {}
        self.error = error
        self.flavor_status = flavor_status

    def request(self, url, method, json=None, raise_exc=True, headers=None):
        path, _, query = url[len(self.prefix):].partition('?')
        self.calls.append((method, path, json, headers))
        if method == 'GET':
            self.queries.setdefault(path, []).append(query)
        if path == '/flavors' and method == 'GET':
            return FakeResponse(200, {'flavors': [
                {'name': name, 'id': fid}
                for name, fid in self.flavors.items()]})
        if path == '/flavors' and method == 'POST':
            if self.flavor_status != 200:
                return FakeResponse(self.flavor_status, {
                    'conflictingRequest': {'message': 'flavor exists'}})
            fid = 'flavor-%d' % len(self.flavors)
            self.flavors[json['flavor']['name']] = fid
            return FakeResponse(200, {'flavor': {'id': fid}})
        if path == '/servers' and method == 'POST':
            server = json['server']
            uid = str(uuid.uuid4())
            host = self.misplace.get(server['name'], server['host'])
            status = 'ERROR' if server['name'] == self.error else 'ACTIVE'
            self.servers[uid] = {
                'id': uid, 'name': server['name'], 'status': status,
                'OS-EXT-SRV-ATTR:host': host,
                'fault': {'message': 'No valid host was found.'}}
            return FakeResponse(202, {'server': {'id': uid}})
        if path == '/servers/detail' and method == 'GET':
            rows = sorted(self.servers.values(), key=lambda row: row['id'])
            marker = dict(item.split('=') for item in query.split('&')
                          ).get('marker')
            start = 0 if marker is None else [
                row['id'] for row in rows].index(marker) + 1
            page = rows[start:start + self.page]
            links = []
            if start + self.page < len(rows):
                links = [{'rel': 'next', 'href': self.prefix + (
                    '/servers/detail?all_tenants=1&marker=%s'
                    % page[-1]['id'])}]
            return FakeResponse(200, {'servers': page,
                                      'servers_links': links})
        if path.startswith('/servers/') and path.endswith('/action'):
            uid = path.split('/')[2]
            assert json == {'os-stop': None}, json
            self.servers[uid]['status'] = 'SHUTOFF'
            return FakeResponse(202)
        raise AssertionError('unexpected request %s %s' % (method, url))

    def booted(self):
        """The boot requests' bodies, by server name."""
        return {body['server']['name']: (body['server'], headers)
                for method, path, body, headers in self.calls
                if method == 'POST' and path == '/servers'}


class NovaTestCase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.layout = sandbox_layout.Layout(self.tmp, BASE_PORT,
                                            password='pw')
        self.layout.make_dirs('nova')
        # _wait_servers polls every 3 s, for up to BOOT_TIMEOUT.
        for patch in (mock.patch.object(nova.time, 'sleep'),
                      mock.patch.object(nova, 'BOOT_TIMEOUT', 2)):
            patch.start()
            self.addCleanup(patch.stop)


class NovaConfigTest(NovaTestCase):

    def test_nova_conf_points_at_the_sandbox_on_localhost(self):
        sections = nova.nova_sections(self.layout)
        default = sections['DEFAULT']
        self.assertEqual('rabbit://guest:guest@127.0.0.1:26001/',
                         default['transport_url'])
        self.assertEqual('127.0.0.1', default['my_ip'])
        self.assertEqual(os.path.join(self.tmp, 'nova', 'state'),
                         default['state_path'])
        self.assertEqual(
            'postgresql+psycopg2://postgres@127.0.0.1:26004/nova_api',
            sections['api_database']['connection'])
        self.assertEqual(
            'postgresql+psycopg2://postgres@127.0.0.1:26004/nova_cell1',
            sections['database']['connection'])
        # The fake driver reads neither image nor network: both go to the
        # sandbox's image-network emulator.
        self.assertEqual('http://127.0.0.1:26012/network',
                         sections['neutron']['endpoint_override'])
        self.assertEqual('http://127.0.0.1:26012/image',
                         sections['glance']['endpoint_override'])
        self.assertEqual('public', sections['placement']['valid_interfaces'])
        self.assertEqual(sandbox_layout.REGION,
                         sections['placement']['region_name'])
        # Versioned notifications: Watcher's decision engine reads them.
        self.assertEqual('versioned',
                         sections['notifications']['notification_format'])
        self.assertEqual(
            'messagingv2',
            sections['oslo_messaging_notifications']['driver'])
        self.assertEqual(os.path.join(self.tmp, 'nova', 'api-paste.ini'),
                         sections['wsgi']['api_paste_config'])

    def test_services_authenticate_as_their_own_users(self):
        nova_auth = nova.nova_sections(self.layout)['keystone_authtoken']
        placement_auth = nova.placement_sections(
            self.layout)['keystone_authtoken']
        for auth, user in ((nova_auth, 'nova'), (placement_auth,
                                                 'placement')):
            self.assertEqual(user, auth['username'])
            self.assertEqual('service', auth['project_name'])
            self.assertEqual('pw', auth['password'])
            self.assertEqual('http://127.0.0.1:26000/v3', auth['auth_url'])
            self.assertEqual('http://127.0.0.1:26000/v3',
                             auth['www_authenticate_uri'])
        self.assertEqual(
            'postgresql+psycopg2://postgres@127.0.0.1:26004/placement',
            nova.placement_sections(
                self.layout)['placement_database']['connection'])

    def test_compute_conf_names_the_host_and_the_fake_driver(self):
        default = nova.compute_sections(self.layout, HOSTS[0])['DEFAULT']
        self.assertEqual('a-01', default['host'])
        self.assertEqual('fake.SnapshotFakeDriver', default['compute_driver'])
        self.assertEqual(fakevirt.DRIVER, default['compute_driver'])
        base = os.path.join(self.tmp, 'nova', 'compute', 'a-01')
        self.assertEqual(base, default['state_path'])
        self.assertEqual(os.path.join(base, 'instances'),
                         default['instances_path'])

    def test_compute_conf_has_the_hosts_ratios_and_reservations(self):
        default = nova.compute_sections(self.layout, HOSTS[0])['DEFAULT']
        self.assertEqual(4.0, default['cpu_allocation_ratio'])
        self.assertEqual(1.5, default['ram_allocation_ratio'])
        self.assertEqual(2.0, default['disk_allocation_ratio'])
        self.assertEqual(2, default['reserved_host_cpus'])
        self.assertEqual(4096, default['reserved_host_memory_mb'])
        # The snapshot reserves GB, Nova MB.
        self.assertEqual(10 * 1024, default['reserved_host_disk_mb'])

    def test_compute_conf_defaults_without_ratios_or_reservations(self):
        default = nova.compute_sections(self.layout, HOSTS[1])['DEFAULT']
        self.assertEqual('b-01', default['host'])
        self.assertEqual(
            (1.0, 1.0, 1.0, 0, 0, 0),
            (default['cpu_allocation_ratio'],
             default['ram_allocation_ratio'],
             default['disk_allocation_ratio'],
             default['reserved_host_cpus'],
             default['reserved_host_memory_mb'],
             default['reserved_host_disk_mb']))

    def test_configure_writes_one_compute_conf_per_host_and_syncs(self):
        with mock.patch.object(nova.infra, 'create_database') as create, \
                mock.patch.object(nova, 'create_service_users') as users, \
                mock.patch.object(nova.process, 'run') as run:
            nova.configure(self.layout, _doc(), mock.sentinel.sess)
        self.assertEqual([mock.call(self.layout, name) for name in (
            'placement', 'nova_api', 'nova_cell0', 'nova_cell1')],
            create.call_args_list)
        users.assert_called_once_with(self.layout, mock.sentinel.sess)
        base = os.path.join(self.tmp, 'nova')
        shared = _read_ini(os.path.join(base, 'nova.conf'))
        self.assertEqual('rabbit://guest:guest@127.0.0.1:26001/',
                         shared.get('DEFAULT', 'transport_url'))
        self.assertEqual('false', shared.get('DEFAULT', 'debug'))
        placement = _read_ini(os.path.join(base, 'placement',
                                           'placement.conf'))
        self.assertEqual('placement', placement.get('keystone_authtoken',
                                                    'username'))
        with open(os.path.join(base, 'api-paste.ini')) as handle:
            self.assertEqual(nova.API_PASTE, handle.read())
        for host in HOSTS:
            compute = _read_ini(os.path.join(base, 'compute', host['name'],
                                             'compute.conf'))
            self.assertEqual(host['name'], compute.get('DEFAULT', 'host'))
            self.assertEqual('fake.SnapshotFakeDriver',
                             compute.get('DEFAULT', 'compute_driver'))
        self.assertEqual(['a-01', 'b-01'],
                         sorted(os.listdir(os.path.join(base, 'compute'))))
        # The schemas, then the cells as nova-manage expects them.
        steps = [call.args[1] for call in run.call_args_list]
        self.assertEqual([
            'placement-manage db sync', 'nova-manage api_db sync',
            'nova-manage cell_v2 map_cell0', 'nova-manage cell_v2 '
            'create_cell', 'nova-manage db sync'], steps)
        argv = {call.args[1]: call.args[2] for call in run.call_args_list}
        self.assertEqual(
            ['--config-file', os.path.join(base, 'placement',
                                           'placement.conf'), 'db', 'sync'],
            argv['placement-manage db sync'][1:])
        self.assertEqual(
            ['--config-file', os.path.join(base, 'nova.conf'), 'cell_v2',
             'map_cell0', '--database_connection',
             'postgresql+psycopg2://postgres@127.0.0.1:26004/nova_cell0'],
            argv['nova-manage cell_v2 map_cell0'][1:])
        self.assertEqual(['cell_v2', 'create_cell', '--name', 'cell1'],
                         argv['nova-manage cell_v2 create_cell'][3:])


class NovaServicesTest(NovaTestCase):

    def test_apis_listen_on_localhost_on_the_sandbox_ports(self):
        emulator, placement, api = nova.api_services(self.layout)
        self.assertEqual(('image-network', 26012), (emulator.name,
                                                    emulator.port))
        self.assertEqual(['-m', 'heatwatcher.sandbox.nova', '26012'],
                         emulator.argv[1:])
        for service, name, port, module in (
                (placement, 'placement', 26007, 'placement.wsgi.api'),
                (api, 'nova', 26006, 'nova.wsgi.osapi_compute')):
            self.assertEqual((name, port), (service.name, service.port))
            argv = service.argv
            self.assertEqual('127.0.0.1:%d' % port,
                             argv[argv.index('--http-socket') + 1])
            self.assertEqual(module, argv[argv.index('--wsgi') + 1])
        self.assertEqual(os.path.join(self.tmp, 'nova', 'placement'),
                         placement.env['OS_PLACEMENT_CONFIG_DIR'])
        self.assertEqual(os.path.join(self.tmp, 'nova'),
                         api.env['OS_NOVA_CONFIG_DIR'])
        self.assertEqual('api-paste.ini;nova.conf',
                         api.env['OS_NOVA_CONFIG_FILES'])

    def test_conductor_and_scheduler_read_nova_conf(self):
        services = nova.control_services(self.layout)
        self.assertEqual(['nova-conductor', 'nova-scheduler'],
                         [service.name for service in services])
        for service in services:
            self.assertEqual(['--config-file', os.path.join(
                self.tmp, 'nova', 'nova.conf')], service.argv[1:])

    def test_one_compute_service_per_host_sized_as_the_host(self):
        service = nova.compute_service(self.layout, HOSTS[0])
        self.assertEqual('nova-compute-a-01', service.name)
        self.assertEqual('nova-compute-a-01',
                         nova.compute_service_name('a-01'))
        base = os.path.join(self.tmp, 'nova')
        self.assertEqual(
            ['-m', 'heatwatcher.sandbox.fakevirt',
             '--config-file', os.path.join(base, 'nova.conf'),
             '--config-file', os.path.join(base, 'compute', 'a-01',
                                           'compute.conf')],
            service.argv[1:])
        self.assertEqual({'HEATWATCHER_FAKE_VCPUS': '32',
                          'HEATWATCHER_FAKE_MEMORY_MB': '262144',
                          'HEATWATCHER_FAKE_DISK_GB': '1800'}, service.env)
        self.assertEqual(os.path.join(base, 'compute', 'a-01'), service.cwd)

    def test_up_refuses_real_nova_when_it_is_not_installed(self):
        with mock.patch.object(cli.os.path, 'exists', return_value=False):
            with self.assertRaisesRegex(
                    errors.SandboxError,
                    'nova-compute is not installed; --nova real needs '
                    r'pip install heatwatcher\[nova\]'):
                cli._check_nova_installed()


class NovaReadinessTest(NovaTestCase):

    def _session(self, answers):
        """A session answering GET ``url`` from ``answers``."""
        sess = mock.Mock()
        sess.get.side_effect = lambda url, **kwargs: answers[url]
        return sess

    def test_hypervisors_by_hostname(self):
        url = nova.compute_url(self.layout, '/os-hypervisors/detail')
        sess = self._session({url: FakeResponse(200, {'hypervisors': [
            {'hypervisor_hostname': 'a-01', 'id': 'h1'},
            {'hypervisor_hostname': 'b-01', 'id': 'h2'}]})})
        self.assertEqual({'a-01', 'b-01'},
                         set(nova.hypervisors(self.layout, sess)))
        self.assertEqual([('a-01', 'h1'), ('b-01', 'h2')],
                         nova.compute_hosts(self.layout, sess, _doc()))

    def test_no_hypervisors_while_the_api_does_not_answer(self):
        url = nova.compute_url(self.layout, '/os-hypervisors/detail')
        sess = self._session({url: FakeResponse(503)})
        self.assertEqual({}, nova.hypervisors(self.layout, sess))

    def test_only_providers_with_a_vcpu_inventory_count(self):
        base = self.layout.url('placement', '/resource_providers')
        sess = self._session({
            base: FakeResponse(200, {'resource_providers': [
                {'name': 'a-01', 'uuid': 'rp1'},
                {'name': 'b-01', 'uuid': 'rp2'}]}),
            base + '/rp1/inventories': FakeResponse(
                200, {'inventories': {'VCPU': {'total': 32}}}),
            base + '/rp2/inventories': FakeResponse(
                200, {'inventories': {}})})
        self.assertEqual({'a-01'},
                         nova.providers_with_inventory(self.layout, sess))

    def test_a_wait_that_times_out_names_the_step_and_the_log(self):
        with self.assertRaisesRegex(
                errors.StepFailed,
                'waiting for the hypervisors failed: not done after 0 s; '
                'see .*nova.log'):
            nova._wait(lambda: False, 0, 'waiting for the hypervisors',
                       self.layout.log('nova'))


class ServiceUsersTest(NovaTestCase):

    def test_existing_users_are_reused_and_given_admin(self):
        auth = self.layout.auth_url
        sess = mock.Mock()

        def get(url):
            found = {
                auth + '/projects?name=service': {'projects': [
                    {'id': 'p1'}]},
                auth + '/roles?name=admin': {'roles': [{'id': 'r1'}]},
                auth + '/users?name=nova': {'users': [{'id': 'u-nova'}]},
                auth + '/users?name=placement': {'users': []}}[url]
            return FakeResponse(200, found)

        sess.get.side_effect = get
        sess.post.return_value = FakeResponse(201, {'user': {
            'id': 'u-placement'}})
        nova.create_service_users(self.layout, sess)
        sess.post.assert_called_once_with(auth + '/users', json={
            'user': {'name': 'placement', 'domain_id': 'default',
                     'password': 'pw', 'default_project_id': 'p1'}})
        self.assertEqual(
            [mock.call(auth + '/projects/p1/users/u-nova/roles/r1'),
             mock.call(auth + '/projects/p1/users/u-placement/roles/r1')],
            sess.put.call_args_list)

    def test_a_keystone_error_names_the_step(self):
        sess = mock.Mock()
        sess.get.return_value = FakeResponse(200, {'no': 'projects'})
        with self.assertRaisesRegex(
                errors.StepFailed,
                'creating the nova and placement users failed: '
                ".*'projects'.*keystone.log"):
            nova.create_service_users(self.layout, sess)


class FlavorTest(NovaTestCase):

    def test_flavor_name_is_the_size(self):
        self.assertEqual('hw-2c-4096m-20g', nova.flavor_name(INSTANCES[0]))

    def test_one_flavor_per_instance_size(self):
        sess = FakeNova(self.layout)
        flavors = nova.create_flavors(self.layout, sess, INSTANCES)
        self.assertEqual({'hw-2c-4096m-20g', 'hw-4c-8192m-40g'},
                         set(flavors))
        created = [body['flavor'] for method, path, body, _ in sess.calls
                   if method == 'POST']
        self.assertEqual([
            {'name': 'hw-2c-4096m-20g', 'vcpus': 2, 'ram': 4096,
             'disk': 20},
            {'name': 'hw-4c-8192m-40g', 'vcpus': 4, 'ram': 8192,
             'disk': 40}], created)

    def test_existing_flavors_are_reused(self):
        sess = FakeNova(self.layout, flavors=['hw-2c-4096m-20g'])
        flavors = nova.create_flavors(self.layout, sess, INSTANCES)
        self.assertEqual('flavor-0', flavors['hw-2c-4096m-20g'])
        self.assertEqual(['hw-4c-8192m-40g'], [
            body['flavor']['name'] for method, _, body, _ in sess.calls
            if method == 'POST'])
        # Private flavors are listed too.
        self.assertEqual(['is_public=None'], sess.queries['/flavors'])

    def test_a_refused_flavor_names_the_flavor_and_the_status(self):
        sess = FakeNova(self.layout, flavor_status=409)
        with self.assertRaisesRegex(
                errors.StepFailed,
                'creating flavor hw-2c-4096m-20g failed: POST '
                'http://127.0.0.1:26006/v2.1/flavors: 409 .*flavor exists'):
            nova.create_flavors(self.layout, sess, INSTANCES)


class BootTest(NovaTestCase):

    def _boot(self, sess, doc=None):
        progress = mock.Mock()
        mapped = nova.boot_servers(self.layout, sess, doc or _doc(),
                                   progress)
        return mapped, progress

    def test_each_server_is_booted_onto_its_snapshot_host(self):
        sess = FakeNova(self.layout)
        self._boot(sess)
        booted = sess.booted()
        self.assertEqual({'vm-1', 'vm-2', 'vm-3'}, set(booted))
        for inst in INSTANCES:
            body, headers = booted[inst['name']]
            self.assertEqual(inst['host'], body['host'])
            # 2.74: the scheduler checks the host, Placement claims.
            self.assertEqual({'OpenStack-API-Version': 'compute 2.74'},
                             headers)
            self.assertEqual(nova.IMAGE_ID, body['imageRef'])
            self.assertEqual('none', body['networks'])
            self.assertEqual(sess.flavors[nova.flavor_name(inst)],
                             body['flavorRef'])

    def test_metadata_is_applied(self):
        sess = FakeNova(self.layout)
        self._boot(sess)
        booted = sess.booted()
        self.assertEqual({'tier': 'web'}, booted['vm-1'][0]['metadata'])
        self.assertEqual({}, booted['vm-2'][0]['metadata'])

    def test_stopped_instances_are_stopped(self):
        sess = FakeNova(self.layout)
        mapped, progress = self._boot(sess)
        by_name = {server['name']: server
                   for server in sess.servers.values()}
        self.assertEqual({'vm-1': 'ACTIVE', 'vm-2': 'SHUTOFF',
                          'vm-3': 'ACTIVE'},
                         {name: server['status']
                          for name, server in by_name.items()})
        stops = [path for method, path, body, _ in sess.calls
                 if path.endswith('/action')]
        self.assertEqual(['/servers/%s/action' % by_name['vm-2']['id']],
                         stops)
        progress.assert_called_once_with(
            '3 servers booted on their snapshot hosts (2 flavors, 1 '
            'stopped)')

    def test_no_stop_when_every_instance_runs(self):
        doc = _doc()
        for inst in doc['instances']:
            inst['state'] = 'active'
        sess = FakeNova(self.layout)
        self._boot(sess, doc)
        self.assertEqual({'ACTIVE'}, {server['status']
                                      for server in sess.servers.values()})
        self.assertFalse([path for _, path, _, _ in sess.calls
                          if path.endswith('/action')])

    def test_the_snapshot_takes_novas_uuids(self):
        sess = FakeNova(self.layout)
        mapped, _progress = self._boot(sess)
        ids = {server['name']: uid for uid, server in sess.servers.items()}
        self.assertEqual([ids['vm-1'], ids['vm-2'], ids['vm-3']],
                         [inst['uuid'] for inst in mapped['instances']])
        self.assertEqual({ids['vm-1']: [1.0], ids['vm-2']: [2.0],
                          'node-a-01': [3.0]}, mapped['metrics']['cpu'])

    def test_every_page_of_servers_is_read(self):
        sess = FakeNova(self.layout, page=1)
        self._boot(sess)
        found = nova.servers(self.layout, sess)
        self.assertEqual(set(sess.servers),
                         {server['id'] for server in found})
        self.assertEqual(3, len(found))

    def test_a_server_elsewhere_than_its_host_fails_naming_both(self):
        sess = FakeNova(self.layout, misplace={'vm-3': 'a-01'})
        with self.assertRaisesRegex(
                errors.StepFailed,
                'booting vm-3 failed: on a-01, not b-01; see '
                '.*nova-scheduler.log'):
            self._boot(sess)

    def test_a_server_that_does_not_stop_fails_naming_the_step(self):
        sess = FakeNova(self.layout)
        stop = sess.request

        def no_stop(url, method, **kwargs):
            if url.endswith('/action'):
                return FakeResponse(202)
            return stop(url, method, **kwargs)

        sess.request = no_stop
        with self.assertRaisesRegex(
                errors.StepFailed,
                'stopping servers failed: 1 servers not SHUTOFF after 2 s'):
            self._boot(sess)

    def test_a_server_in_error_fails_with_novas_fault(self):
        sess = FakeNova(self.layout, error='vm-2')
        with self.assertRaisesRegex(
                errors.StepFailed,
                'booting servers failed: server vm-2 in ERROR: .*No valid '
                'host was found.*nova-conductor.log'):
            self._boot(sess)

    def test_remap_renames_instances_and_their_series_only(self):
        doc = _doc()
        mapped = nova.remap(doc, {'snap-1': 'n1', 'snap-2': 'n2',
                                  'snap-3': 'n3'})
        self.assertEqual(['n1', 'n2', 'n3'],
                         [inst['uuid'] for inst in mapped['instances']])
        self.assertEqual({'n1': [1.0], 'n2': [2.0], 'node-a-01': [3.0]},
                         mapped['metrics']['cpu'])
        # The snapshot given is left as it was.
        self.assertEqual('snap-1', doc['instances'][0]['uuid'])


class EmulatorTest(unittest.TestCase):

    def _get(self, path, method='GET'):
        answer = {}

        def start_response(status, headers):
            answer['status'] = status
            answer['headers'] = dict(headers)

        body = b''.join(nova.emulator_app({
            'PATH_INFO': path, 'REQUEST_METHOD': method,
            'HTTP_HOST': '127.0.0.1:26012',
            'wsgi.input': io.BytesIO()}, start_response))
        self.assertEqual(str(len(body)),
                         answer['headers']['Content-Length'])
        return answer['status'], json.loads(body)

    def test_the_one_image(self):
        status, body = self._get('/image/v2/images/%s' % nova.IMAGE_ID)
        self.assertEqual('200 OK', status)
        self.assertEqual(nova.IMAGE_ID, body['id'])
        self.assertEqual('active', body['status'])
        status, body = self._get('/image/v2/images')
        self.assertEqual([nova.IMAGE_ID],
                         [image['id'] for image in body['images']])

    def test_version_documents_point_under_their_prefix(self):
        _status, body = self._get('/image/')
        self.assertEqual('http://127.0.0.1:26012/image/v2/',
                         body['versions'][0]['links'][0]['href'])
        _status, body = self._get('/network/')
        self.assertEqual('http://127.0.0.1:26012/network/v2.0/',
                         body['versions'][0]['links'][0]['href'])

    def test_network_lists_are_empty(self):
        self.assertEqual(('200 OK', {'ports': []}),
                         self._get('/network/v2.0/ports'))
        self.assertEqual(('200 OK', {'floatingips': []}),
                         self._get('/network/v2.0/floatingips.json'))
        self.assertEqual(('200 OK', {'extensions': []}),
                         self._get('/network/v2.0/extensions'))
        _status, body = self._get('/network/v2.0/security-groups')
        self.assertEqual(['default'],
                         [group['name'] for group in body['security_groups']])

    def test_other_images_writes_and_paths_are_not_found(self):
        self.assertEqual('404 Not Found',
                         self._get('/image/v2/images/%s' % uuid.uuid4())[0])
        self.assertEqual('404 Not Found',
                         self._get('/network/v2.0/ports', 'POST')[0])
        self.assertEqual('404 Not Found', self._get('/volume/v3')[0])
