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
"""The pure parts of the sandbox's Ironic: its configuration, the node
enrollment requests, the catalog entry and what watcher.conf needs."""

import configparser
import os
import tempfile
import unittest
from unittest import mock
import uuid

from heatwatcher.sandbox import emulators
from heatwatcher.sandbox import ironic
from heatwatcher.sandbox import layout as sandbox_layout

HOSTS = [('a-01', '6c3a1f0e-1d2b-4c5d-8e9f-000000000001'),
         ('a-02', '6c3a1f0e-1d2b-4c5d-8e9f-000000000002')]


class FakeResponse:
    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self._body = body if body is not None else {}
        self.text = str(self._body)

    def json(self):
        return self._body


class FakeIronic:
    """A keystoneauth-like session answering as Ironic's API would."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.nodes = {}
        self.calls = []

    def _find(self, ident):
        for node in self.nodes.values():
            if ident in (node['uuid'], node['name']):
                return node
        return None

    def request(self, url, method, json=None, raise_exc=True, headers=None):
        self.calls.append((method, url[len(self.base_url):], json,
                           headers))
        path = url[len(self.base_url):].split('?')[0].split('/')[1:]
        if method == 'POST' and path == ['v1', 'nodes']:
            node = dict(json, uuid=str(uuid.uuid4()), power_state=None,
                        provision_state='enroll', target_power_state=None,
                        target_provision_state=None, last_error=None)
            self.nodes[node['uuid']] = node
            return FakeResponse(201, node)
        if path[:2] == ['v1', 'nodes'] and len(path) == 2:
            return FakeResponse(200, {'nodes': list(self.nodes.values())})
        node = self._find(path[2])
        if node is None:
            return FakeResponse(404, {'error_message': 'not found'})
        if method == 'GET':
            return FakeResponse(200, node)
        if method == 'PATCH':
            for patch in json:
                node['extra'][patch['path'].split('/')[-1]] = patch['value']
            return FakeResponse(200, node)
        if path[3:] == ['states', 'provision']:
            node['provision_state'] = {'manage': 'manageable',
                                       'provide': 'available'}[
                                           json['target']]
            return FakeResponse(202)
        if path[3:] == ['states', 'power']:
            node['power_state'] = json['target']
            return FakeResponse(202)
        raise AssertionError('unexpected request %s %s' % (method, url))


class IronicConfigTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.layout = sandbox_layout.Layout(self.tmp, 26000, password='pw')

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_ports_follow_the_sandbox_ports(self):
        self.assertEqual(26010, ironic.port(self.layout, 'ironic'))
        self.assertEqual(26011, ironic.port(self.layout, 'ironic_rpc'))
        self.assertEqual('http://127.0.0.1:26010',
                         ironic.api_url(self.layout))

    def test_noauth_sections(self):
        sections = ironic.config_sections(self.layout, 26010, 26011)
        default = sections['DEFAULT']
        self.assertEqual('noauth', default['auth_strategy'])
        self.assertEqual('json-rpc', default['rpc_transport'])
        self.assertEqual('127.0.0.1', default['host'])
        self.assertEqual('fake-hardware', default['enabled_hardware_types'])
        self.assertEqual('fake', default['enabled_power_interfaces'])
        self.assertEqual('fake', default['enabled_management_interfaces'])
        self.assertEqual({'host_ip': '127.0.0.1', 'port': 26010,
                          'api_workers': 1}, sections['api'])
        self.assertEqual({'auth_strategy': 'noauth',
                          'host_ip': '127.0.0.1', 'port': 26011},
                         sections['json_rpc'])
        self.assertEqual('sqlite:///%s' % os.path.join(
            self.layout.dir, 'ironic', 'ironic.sqlite'),
            sections['database']['connection'])
        self.assertNotIn('keystone_authtoken', sections)
        # Ironic's own policy defaults (project-owned nodes).
        self.assertNotIn('oslo_policy', sections)

    def test_every_interface_kind_has_one_enabled_implementation(self):
        default = ironic.config_sections(self.layout, 1, 2)['DEFAULT']
        for kind, implementation in ironic.INTERFACES.items():
            self.assertEqual(implementation,
                             default['enabled_%s_interfaces' % kind])

    def test_keystone_sections(self):
        auth = self.layout.auth_options()
        sections = ironic.config_sections(self.layout, 26010, 26011,
                                          keystone_auth=auth)
        self.assertEqual('keystone', sections['DEFAULT']['auth_strategy'])
        authtoken = sections['keystone_authtoken']
        self.assertEqual('http://127.0.0.1:26000/v3', authtoken['auth_url'])
        self.assertEqual('http://127.0.0.1:26000/v3',
                         authtoken['www_authenticate_uri'])
        self.assertEqual('pw', authtoken['password'])
        self.assertEqual('password', authtoken['auth_type'])
        # The conductor's JSON-RPC stays local and unauthenticated.
        self.assertEqual('noauth', sections['json_rpc']['auth_strategy'])
        # The caller's options are not changed.
        self.assertNotIn('www_authenticate_uri', auth)

    def test_configure_writes_the_file_and_creates_the_schema(self):
        with mock.patch('heatwatcher.sandbox.process.run') as run:
            ironic.configure(self.layout, keystone_auth=None,
                             bin_dir='/venv/bin')
        parser = configparser.RawConfigParser()
        parser.read(ironic.config_file(self.layout))
        self.assertEqual('26010', parser.get('api', 'port'))
        self.assertEqual('26011', parser.get('json_rpc', 'port'))
        self.assertEqual('false', parser.get('conductor', 'automated_clean'))
        self.assertTrue(os.path.isdir(self.layout.path('ironic', 'locks')))
        run.assert_called_once()
        argv = run.call_args[0][2]
        self.assertEqual(['/venv/bin/ironic-dbsync', '--config-file',
                          ironic.config_file(self.layout), 'create_schema'],
                         argv)

    def test_services_log_under_the_sandbox_and_listen_locally(self):
        api, conductor = ironic.services(self.layout, bin_dir='/venv/bin')
        self.assertEqual('ironic-api', api.name)
        self.assertEqual('ironic-conductor', conductor.name)
        self.assertEqual(26010, api.port)
        self.assertEqual(26011, conductor.port)
        self.assertEqual(self.layout.log('ironic-api'), api.log_path)
        self.assertEqual(['/venv/bin/ironic-conductor', '--config-file',
                          ironic.config_file(self.layout)], conductor.argv)

    def test_single_process_has_no_rpc_and_one_service(self):
        sections = ironic.config_sections(self.layout, 26010, 26011,
                                          single_process=True)
        self.assertEqual('none', sections['DEFAULT']['rpc_transport'])
        (single,) = ironic.services(self.layout, bin_dir='/venv/bin',
                                    single_process=True)
        self.assertEqual('ironic', single.name)
        self.assertEqual(26010, single.port)
        self.assertEqual('/venv/bin/ironic', single.argv[0])

    def test_start_starts_the_conductor_first_and_waits_for_both(self):
        order = []
        with mock.patch.object(ironic.process.Service, 'wait') as wait:
            started = ironic.start(self.layout, mock.Mock(),
                                   lambda svc: order.append(svc.name),
                                   bin_dir='/venv/bin')
        self.assertEqual(['ironic-conductor', 'ironic-api'], order)
        self.assertEqual(order, [svc.name for svc in started])
        self.assertEqual(2, wait.call_count)

    def test_watcher_sections_select_the_catalog_endpoint(self):
        self.assertEqual({'ironic_client': {
            'api_version': '1', 'endpoint_type': 'publicURL',
            'region_name': 'RegionOne'}}, ironic.watcher_sections())


class IronicNodesTest(unittest.TestCase):

    def setUp(self):
        self.layout = sandbox_layout.Layout('/nonexistent', 26000)
        self.base_url = ironic.api_url(self.layout)
        self.sess = FakeIronic(self.base_url)

    def test_node_payload(self):
        self.assertEqual({'name': 'a-01', 'driver': 'fake-hardware',
                          'extra': {'compute_node_id': HOSTS[0][1]}},
                         ironic.node_payload(*HOSTS[0]))

    def test_provision_steps(self):
        self.assertEqual([('manage', 'manageable')],
                         ironic.provision_steps('manageable'))
        self.assertEqual([('manage', 'manageable'),
                          ('provide', 'available')],
                         ironic.provision_steps('available'))
        self.assertRaises(ValueError, ironic.provision_steps, 'active')

    def test_compute_hosts_use_the_emulator_hypervisor_ids(self):
        doc = {'hosts': [{'name': 'a-01', 'uuid': 'demo-node-a-01'},
                         {'name': 'a-02', 'uuid': HOSTS[1][1]}]}
        self.assertEqual(
            [('a-01', emulators.node_uuid(doc['hosts'][0])),
             ('a-02', HOSTS[1][1])], ironic.compute_hosts(doc))

    def test_enroll_creates_manages_and_powers_on(self):
        nodes = ironic.enroll_nodes(self.layout, self.sess, HOSTS)
        self.assertEqual(['a-01', 'a-02'], sorted(nodes))
        for hostname, hypervisor_id in HOSTS:
            node = self.sess.nodes[nodes[hostname]]
            self.assertEqual('manageable', node['provision_state'])
            self.assertEqual('power on', node['power_state'])
            self.assertEqual({'compute_node_id': hypervisor_id},
                             node['extra'])
        verbs = [(method, body) for method, path, body, _h in
                 self.sess.calls if method == 'PUT']
        self.assertIn(('PUT', {'target': 'manage'}), verbs)
        self.assertIn(('PUT', {'target': 'power on'}), verbs)
        self.assertNotIn(('PUT', {'target': 'provide'}), verbs)
        for _method, _path, _body, headers in self.sess.calls:
            self.assertEqual({'X-OpenStack-Ironic-API-Version': '1.31'},
                             headers)

    def test_enroll_to_available(self):
        nodes = ironic.enroll_nodes(self.layout, self.sess, HOSTS,
                                    target_state='available')
        self.assertEqual({'available'}, {
            self.sess.nodes[u]['provision_state'] for u in nodes.values()})

    def test_enroll_twice_reuses_the_nodes(self):
        first = ironic.enroll_nodes(self.layout, self.sess, HOSTS)
        moved = [(HOSTS[0][0], 'another-hypervisor')]
        second = ironic.enroll_nodes(self.layout, self.sess, moved)
        self.assertEqual(first[HOSTS[0][0]], second[HOSTS[0][0]])
        self.assertEqual(2, len(self.sess.nodes))
        self.assertEqual('another-hypervisor', self.sess.nodes[
            first[HOSTS[0][0]]]['extra']['compute_node_id'])

    def test_refused_request_names_the_node_and_the_log(self):
        def refuse(url, method, **kwargs):
            return FakeResponse(400, {'error_message': 'bad driver'})
        self.sess.request = refuse
        with self.assertRaises(ironic.IronicError) as caught:
            ironic.enroll_nodes(self.layout, self.sess, HOSTS)
        message = str(caught.exception)
        self.assertIn('a-01', message)
        self.assertIn('HTTP 400', message)
        self.assertIn(self.layout.log('ironic-api'), message)

    def test_power_timeout_names_the_state(self):
        ironic.enroll_nodes(self.layout, self.sess, HOSTS[:1])
        original = self.sess.request

        def stuck(url, method, json=None, **kwargs):
            if method == 'PUT':
                return FakeResponse(202)
            return original(url, method, json=json, **kwargs)
        self.sess.request = stuck
        with mock.patch('time.sleep'):
            with self.assertRaises(ironic.IronicError) as caught:
                ironic.set_power(self.sess, self.base_url, self.layout,
                                 HOSTS[0][0], ironic.POWER_OFF, timeout=0)
        self.assertIn('power state power on', str(caught.exception))


class RegisterEndpointTest(unittest.TestCase):

    def test_service_and_three_endpoints(self):
        layout = sandbox_layout.Layout('/nonexistent', 26000)
        sess = mock.Mock()
        sess.get.return_value = FakeResponse(200, {'services': [
            {'type': 'identity', 'id': 'k'}]})
        sess.post.side_effect = [
            FakeResponse(201, {'service': {'id': 'svc'}}),
            FakeResponse(201), FakeResponse(201), FakeResponse(201)]
        ironic.register_endpoint(layout, sess)
        service_call, *endpoint_calls = sess.post.call_args_list
        self.assertEqual({'service': {'type': 'baremetal', 'name': 'ironic',
                                      'enabled': True}},
                         service_call[1]['json'])
        self.assertEqual(
            [('public', 'http://127.0.0.1:26010'),
             ('internal', 'http://127.0.0.1:26010'),
             ('admin', 'http://127.0.0.1:26010')],
            [(c[1]['json']['endpoint']['interface'],
              c[1]['json']['endpoint']['url']) for c in endpoint_calls])

    def test_existing_service_is_kept_and_its_endpoints_updated(self):
        layout = sandbox_layout.Layout('/nonexistent', 26000)
        sess = mock.Mock()
        sess.get.side_effect = [
            FakeResponse(200, {'services': [{'type': 'baremetal',
                                             'id': 'b'}]}),
            FakeResponse(200, {'endpoints': [
                {'id': 'e1', 'interface': 'public',
                 'url': 'http://127.0.0.1:26010'},
                {'id': 'e2', 'interface': 'internal',
                 'url': 'http://127.0.0.1:1'}]})]
        ironic.register_endpoint(layout, sess)
        self.assertEqual({'service_id': 'b'},
                         sess.get.call_args_list[1][1]['params'])
        sess.patch.assert_called_once_with(
            'http://127.0.0.1:26000/v3/endpoints/e2',
            json={'endpoint': {'url': 'http://127.0.0.1:26010'}})
        (created,) = sess.post.call_args_list
        self.assertEqual('admin', created[1]['json']['endpoint']['interface'])
