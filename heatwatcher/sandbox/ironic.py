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
"""Ironic: ``ironic-api`` and ``ironic-conductor`` with the ``fake-hardware``
hardware type, one bare metal node per compute host.

Each node carries ``extra.compute_node_id`` = the host's hypervisor id in
the (emulated) Nova, which is how Watcher's Ironic helper
(``watcher/common/metal_helper/ironic.py``) maps a node to its hypervisor.
The fake power interface only records the requested state, so ``openstack
baremetal node power off|on`` works and is reflected within a second.

Choices, as measured with ironic 39.0.0:

* The API and the conductor talk over JSON-RPC (``rpc_transport =
  json-rpc``, the conductor listening on 127.0.0.1), not RabbitMQ.
  ``single_process=True`` runs both in the one ``ironic`` process that
  Ironic recommends for SQLite instead (``rpc_transport = none``): about
  half the memory (290 MiB against 560 MiB) and one port less.
* The database is SQLite (Ironic turns on its WAL mode itself), built with
  ``ironic-dbsync create_schema``: ``upgrade`` fails on SQLite (alembic
  cannot ALTER constraints there). Both services log at start that SQLite
  is meant for the single-process ``ironic`` command; with one API worker
  and a few nodes, the two processes have shown no locking error.
* With Keystone, the API checks tokens with keystonemiddleware and
  Ironic's default policies. Those let a project-scoped admin (Watcher's
  session, ``heatwatcher sandbox env``) list and power only the nodes its
  project owns; Ironic makes the creating project the owner, so the nodes
  are enrolled with the admin's project-scoped session. System-scoped
  calls (``/v1/drivers``, ``/v1/conductors``) are refused to that session
  (oslo.policy 6 always enforces scope) and are not used here. JSON-RPC
  between the two Ironic services stays unauthenticated (it listens on
  127.0.0.1 only).
"""

import os
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from heatwatcher.sandbox import config
from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

SERVICE_TYPE = 'baremetal'
SERVICE_NAME = 'ironic'
SINGLE_SERVICE = 'ironic'
API_SERVICE = 'ironic-api'
CONDUCTOR_SERVICE = 'ironic-conductor'
HARDWARE_TYPE = 'fake-hardware'
# The interfaces enabled for fake-hardware: fake where one exists, else
# the no-op implementation (no network, no inspection, no console...).
INTERFACES = {
    'bios': 'no-bios',
    'boot': 'fake',
    'console': 'no-console',
    'deploy': 'fake',
    'firmware': 'no-firmware',
    'inspect': 'no-inspect',
    'management': 'fake',
    'network': 'noop',
    'power': 'fake',
    'raid': 'no-raid',
    'rescue': 'no-rescue',
    'storage': 'noop',
    'vendor': 'no-vendor',
}
# Microversion of the requests made here: 1.10 allows any URL-safe node
# name (a snapshot's host names).
API_VERSION = '1.31'
API_VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'
# Provision states a node can be left in; power on and off work in all.
TARGET_STATES = ('manageable', 'available')
POWER_ON = 'power on'
POWER_OFF = 'power off'


class IronicError(errors.SandboxError):
    """A request to the Ironic API failed or timed out."""

    msg_fmt = 'ironic: %(reason)s; see %(log)s'


# -- ports, paths, URLs ------------------------------------------------------

def port(layout, name):
    """Port ``name`` (``ironic`` or ``ironic_rpc``) of the sandbox."""
    return layout.port(name)


def api_url(layout):
    """Root URL of ironic-api (the catalog's ``baremetal`` endpoint)."""
    return 'http://%s:%d' % (sandbox_layout.HOST, port(layout, 'ironic'))


def config_file(layout):
    return layout.path('ironic', 'ironic.conf')


def database_url(layout):
    return 'sqlite:///%s' % layout.path('ironic', 'ironic.sqlite')


# -- configuration -----------------------------------------------------------

def config_sections(layout, api_port, rpc_port, keystone_auth=None,
                    database=None, debug=False, single_process=False):
    """ironic.conf as ``{section: {option: value}}``.

    :param api_port: port of ironic-api on 127.0.0.1.
    :param rpc_port: port of the conductor's JSON-RPC server on 127.0.0.1.
    :param keystone_auth: keystoneauth password options of the service
        user (``auth_type``, ``auth_url``, ``username``, ``password``,
        ``project_name``, ``user_domain_name``, ``project_domain_name``),
        as :meth:`Layout.auth_options` gives them; None for no
        authentication (``auth_strategy = noauth``).
    :param database: SQLAlchemy URL; default SQLite in ``DIR/ironic``.
    :param single_process: for the combined ``ironic`` command (no RPC).
    """
    base = layout.path('ironic')
    default = {
        'auth_strategy': 'keystone' if keystone_auth else 'noauth',
        'rpc_transport': 'none' if single_process else 'json-rpc',
        # The conductor's name; the API reaches it at this address, on
        # [json_rpc] port.
        'host': sandbox_layout.HOST,
        'use_stderr': True,
        'debug': debug,
        'enabled_hardware_types': HARDWARE_TYPE,
        # Only warn when less than [DEFAULT] minimum_required_memory
        # (1 GiB) is free, instead of holding back memory-heavy work.
        'minimum_memory_warning_only': True,
    }
    for interface, implementation in sorted(INTERFACES.items()):
        default['enabled_%s_interfaces' % interface] = implementation
    sections = {
        'DEFAULT': default,
        # One worker: several would each bind the port, and SQLite wants
        # as few writers as possible.
        'api': {'host_ip': sandbox_layout.HOST, 'port': api_port,
                'api_workers': 1},
        'json_rpc': {'auth_strategy': 'noauth',
                     'host_ip': sandbox_layout.HOST, 'port': rpc_port},
        'database': {'connection': database or database_url(layout)},
        'conductor': {'automated_clean': False,
                      # The fake power interface cannot drift.
                      'sync_power_state_interval': 0},
        'dhcp': {'dhcp_provider': 'none'},
        'oslo_concurrency': {'lock_path': os.path.join(base, 'locks')},
        'oslo_messaging_notifications': {'driver': 'noop'},
    }
    if keystone_auth:
        authtoken = dict(keystone_auth)
        authtoken.update({'www_authenticate_uri': keystone_auth['auth_url'],
                          'service_token_roles_required': True})
        sections['keystone_authtoken'] = authtoken
    return sections


def configure(layout, api_port=None, rpc_port=None, keystone_auth=None,
              database=None, bin_dir=None, single_process=False):
    """Write ironic.conf and create the database schema.

    ``keystone_auth`` as in :func:`config_sections`; ``bin_dir`` is the
    directory of Ironic's console scripts (default: those of the Python
    environment running heatwatcher).
    """
    base = layout.path('ironic')
    os.makedirs(os.path.join(base, 'locks'), exist_ok=True)
    api_port = api_port or port(layout, 'ironic')
    rpc_port = rpc_port or port(layout, 'ironic_rpc')
    config.write_ini(config_file(layout), config_sections(
        layout, api_port, rpc_port, keystone_auth=keystone_auth,
        database=database, single_process=single_process))
    process.run(layout, 'ironic-dbsync create_schema', [
        _bin(bin_dir, 'ironic-dbsync'), '--config-file', config_file(layout),
        'create_schema'], log_name='ironic-setup', cwd=base)


def _bin(bin_dir, name):
    if bin_dir:
        return os.path.join(bin_dir, name)
    return sandbox_layout.bin_path(name)


def services(layout, api_port=None, bin_dir=None, single_process=False):
    """[ironic-api, ironic-conductor] processes, not started.

    With ``single_process``, [the one ``ironic`` process serving both].
    """
    conf = config_file(layout)
    cwd = layout.path('ironic')
    if single_process:
        return [process.Service(layout, SINGLE_SERVICE, [
            _bin(bin_dir, 'ironic'), '--config-file', conf],
            port=api_port or port(layout, 'ironic'), cwd=cwd)]
    api = process.Service(layout, API_SERVICE, [
        _bin(bin_dir, 'ironic-api'), '--config-file', conf],
        port=api_port or port(layout, 'ironic'), cwd=cwd)
    conductor = process.Service(layout, CONDUCTOR_SERVICE, [
        _bin(bin_dir, 'ironic-conductor'), '--config-file', conf],
        port=port(layout, 'ironic_rpc'), cwd=cwd)
    return [api, conductor]


def _log(layout, name):
    """Log of service ``name``, or of the single ``ironic`` process."""
    single = layout.log(SINGLE_SERVICE)
    return single if os.path.exists(single) else layout.log(name)


# -- talking to the API ------------------------------------------------------

def noauth_session():
    """A keystoneauth session without authentication (noauth Ironic)."""
    return ks_session.Session()


def _request(sess, method, url, layout, step, json=None, allowed=()):
    """One API request; raises :class:`IronicError` on a failure."""
    try:
        response = sess.request(url, method, json=json, raise_exc=False,
                                headers={API_VERSION_HEADER: API_VERSION})
    except ks_exc.ClientException as exc:
        raise IronicError(reason='%s: %s' % (step, exc),
                          log=_log(layout, API_SERVICE))
    if response.status_code >= 400 and (
            response.status_code not in allowed):
        raise IronicError(reason='%s: HTTP %d %s' % (
            step, response.status_code, response.text[:300]),
            log=_log(layout, API_SERVICE))
    return response


def api_ready(base_url, sess):
    """True when ironic-api answers its version document."""
    response = sess.get(base_url + '/', raise_exc=False, authenticated=False)
    return response.status_code == 200


def wait_ready(layout, sess, started, timeout=120):
    """Wait until the started services (from :func:`services`) serve.

    The conductor is ready when its JSON-RPC port answers (it opens it
    once it has registered itself and its hardware type in the database);
    the API (or the single ``ironic`` process) when it answers its version
    document.

    :raises: :class:`~heatwatcher.sandbox.errors.ServiceFailed` naming the
        service and its log.
    """
    for service in started:
        if service.name == CONDUCTOR_SERVICE:
            service.wait(timeout=timeout)
        else:
            base_url = 'http://%s:%d' % (sandbox_layout.HOST, service.port)
            service.wait(lambda url=base_url: api_ready(url, sess),
                         timeout=timeout)


def start(layout, sess, start_service, api_port=None, bin_dir=None,
          timeout=120, single_process=False):
    """Start both services and wait until they serve.

    :param sess: a keystoneauth session (:func:`noauth_session` without
        Keystone).
    :param start_service: called with each :class:`process.Service`; it
        starts it and records it (the sandbox's ``start`` in ``_up``).
    :returns: the services started, conductor first.
    """
    started = sorted(services(layout, api_port=api_port, bin_dir=bin_dir,
                              single_process=single_process),
                     key=lambda service: service.name != CONDUCTOR_SERVICE)
    for service in started:
        start_service(service)
    wait_ready(layout, sess, started, timeout=timeout)
    return started


# -- Keystone catalog --------------------------------------------------------

def register_endpoint(layout, sess, base_url=None):
    """Add the ``baremetal`` service and its endpoints to the catalog.

    The same as::

        openstack service create --name ironic baremetal
        openstack endpoint create --region RegionOne baremetal public URL
        openstack endpoint create --region RegionOne baremetal internal URL
        openstack endpoint create --region RegionOne baremetal admin URL

    Idempotent: an existing ``baremetal`` service is kept, its endpoints
    are pointed at ``base_url`` and the missing ones added.
    """
    base_url = base_url or api_url(layout)
    url = layout.auth_url
    try:
        found = [svc for svc in sess.get(url + '/services').json()[
            'services'] if svc['type'] == SERVICE_TYPE]
        if found:
            service_id = found[0]['id']
            endpoints = sess.get(url + '/endpoints', params={
                'service_id': service_id}).json()['endpoints']
        else:
            created = sess.post(url + '/services', json={'service': {
                'type': SERVICE_TYPE, 'name': SERVICE_NAME,
                'enabled': True}})
            service_id = created.json()['service']['id']
            endpoints = []
        by_interface = {endpoint['interface']: endpoint
                        for endpoint in endpoints}
        for interface in ('public', 'internal', 'admin'):
            endpoint = by_interface.get(interface)
            if endpoint is None:
                sess.post(url + '/endpoints', json={'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': sandbox_layout.REGION, 'url': base_url}})
            elif endpoint['url'] != base_url:
                sess.patch('%s/endpoints/%s' % (url, endpoint['id']),
                           json={'endpoint': {'url': base_url}})
    except (ks_exc.ClientException, KeyError, ValueError) as exc:
        raise errors.StepFailed(step='registering the baremetal endpoint',
                                reason=str(exc), log=layout.log('keystone'))


# -- nodes -------------------------------------------------------------------

def compute_hosts(doc):
    """(hostname, hypervisor id) of each host of snapshot ``doc``.

    The hypervisor id is the one the Nova emulator is loaded with.
    """
    from heatwatcher.sandbox import emulators

    return [(host['name'], emulators.node_uuid(host))
            for host in doc['hosts']]


def node_payload(hostname, hypervisor_id):
    """The body of ``POST /v1/nodes`` for one compute host.

    No interface is named: each kind has one enabled implementation
    (:data:`INTERFACES`), which Ironic takes as the default.
    """
    return {
        'name': hostname,
        'driver': HARDWARE_TYPE,
        'extra': {'compute_node_id': hypervisor_id},
    }


def provision_steps(target_state):
    """The provision verbs taking an enrolled node to ``target_state``.

    :returns: [(verb, state reached)], in order.
    """
    if target_state not in TARGET_STATES:
        raise ValueError('target state %r is not one of %s'
                         % (target_state, ', '.join(TARGET_STATES)))
    steps = [('manage', 'manageable')]
    if target_state == 'available':
        steps.append(('provide', 'available'))
    return steps


def _node(sess, base_url, layout, ident):
    return _request(sess, 'GET', '%s/v1/nodes/%s' % (base_url, ident),
                    layout, 'reading node %s' % ident).json()


def _wait_node(sess, base_url, layout, ident, done, what, timeout,
               interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        node = _node(sess, base_url, layout, ident)
        if done(node):
            return node
        settled = not (node.get('target_provision_state')
                       or node.get('target_power_state'))
        if settled and node.get('last_error'):
            raise IronicError(reason='node %s not %s: %s' % (
                node.get('name') or ident, what, node['last_error']),
                log=_log(layout, CONDUCTOR_SERVICE))
        if time.monotonic() > deadline:
            raise IronicError(reason='node %s not %s after %d s (provision '
                              'state %s, power state %s)' % (
                                  node.get('name') or ident, what, timeout,
                                  node.get('provision_state'),
                                  node.get('power_state')),
                              log=_log(layout, CONDUCTOR_SERVICE))
        time.sleep(interval)


def _request_power(sess, base_url, layout, ident, target):
    _request(sess, 'PUT', '%s/v1/nodes/%s/states/power' % (base_url, ident),
             layout, 'setting node %s to %s' % (ident, target),
             json={'target': target})


def _wait_power(sess, base_url, layout, ident, target, timeout):
    return _wait_node(
        sess, base_url, layout, ident,
        lambda node: (node['power_state'] == target
                      and not node['target_power_state']),
        target, timeout)


def set_power(sess, base_url, layout, ident, target, timeout=30):
    """Set a node's power state (``power on``/``power off``) and wait."""
    _request_power(sess, base_url, layout, ident, target)
    return _wait_power(sess, base_url, layout, ident, target, timeout)


def enroll_nodes(layout, sess, hosts, base_url=None,
                 target_state='manageable', timeout=60):
    """One fake-hardware node per compute host, powered on.

    With Keystone, ``sess`` must be the project-scoped admin's that
    Watcher and the ``openstack`` client use: the nodes' owner is the
    project that enrolls them.

    Idempotent: a node that already has the host's name is reused (its
    ``extra.compute_node_id`` is set again).

    :param hosts: [(hostname, hypervisor id)].
    :param target_state: ``manageable`` (the default: a manage verb, about
        one second) or ``available`` (also ``provide``).
    :returns: {hostname: node uuid}.
    """
    base_url = base_url or api_url(layout)
    steps = provision_steps(target_state)
    nodes = {}
    for hostname, hypervisor_id in hosts:
        response = _request(sess, 'GET', '%s/v1/nodes/%s' % (
            base_url, hostname), layout, 'looking up node %s' % hostname,
            allowed=(404,))
        if response.status_code == 404:
            node = _request(sess, 'POST', base_url + '/v1/nodes', layout,
                            'enrolling node %s' % hostname,
                            json=node_payload(hostname, hypervisor_id)).json()
        else:
            node = _request(sess, 'PATCH', '%s/v1/nodes/%s' % (
                base_url, hostname), layout, 'updating node %s' % hostname,
                json=[{'op': 'add', 'path': '/extra/compute_node_id',
                       'value': hypervisor_id}]).json()
        nodes[hostname] = node['uuid']
    # Start every node's transitions before waiting for any.
    for verb, state in steps:
        for hostname, uuid in nodes.items():
            if _node(sess, base_url, layout, uuid)['provision_state'] == \
                    state:
                continue
            _request(sess, 'PUT', '%s/v1/nodes/%s/states/provision' % (
                base_url, uuid), layout, '%s node %s' % (verb, hostname),
                json={'target': verb})
        for uuid in nodes.values():
            _wait_node(sess, base_url, layout, uuid,
                       lambda node, state=state: (
                           node['provision_state'] == state
                           and not node['target_provision_state']),
                       state, timeout)
    for uuid in nodes.values():
        _request_power(sess, base_url, layout, uuid, POWER_ON)
    for uuid in nodes.values():
        _wait_power(sess, base_url, layout, uuid, POWER_ON, timeout)
    return nodes


def list_nodes(sess, base_url, layout):
    """Every node with its name, power and provision state and extra."""
    response = _request(
        sess, 'GET', base_url + '/v1/nodes?fields=uuid,name,power_state,'
        'provision_state,extra', layout, 'listing nodes')
    return response.json()['nodes']


# -- Watcher -----------------------------------------------------------------

def watcher_sections():
    """What watcher.conf needs for Watcher's Ironic metal helper.

    Watcher picks MAAS if ``[maas_client] url`` is set and Ironic
    otherwise (``watcher/common/metal_helper/factory.py``); its Ironic
    client (``OpenStackClients.ironic``) takes the session of
    ``[watcher_clients_auth]`` and finds the ``baremetal`` endpoint in the
    catalog from ``[ironic_client]``.
    """
    return {'ironic_client': {'api_version': '1',
                              'endpoint_type': 'publicURL',
                              'region_name': sandbox_layout.REGION}}
