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
"""The ``heatwatcher_node_power`` action: power a compute node on or off.

It takes the input parameters of Watcher's ``change_node_power_state``
(the bare metal node as ``resource_id``, ``state`` ``on`` or ``off``, the
hostname as ``resource_name``), which python-watcher 17.0.0 cannot execute
for a power-off (``'Hypervisor' object has no attribute 'to_dict'``), and
adds what a safe plan needs:

* before a power-off, Nova must list no instance on the host, whatever its
  state; otherwise the action fails naming the host and its instances;
* the power state is set through Watcher's metal helper (Ironic, or MAAS
  where Watcher supports it), then read again every ``poll_interval`` until
  it is the requested one; after ``power_state_timeout`` the action fails
  with the state it observed;
* after a power-on, the action waits until the host's nova-compute service
  reports ``up`` (``service_up_timeout``), so migrations into the host that
  follow do not fail;
* ``revert`` puts the node back in the power state it had, with the same
  checks.

Failures are :class:`NodePowerFailure` (a Watcher exception), so Watcher
records their message as the action's status message.
"""

import time

from oslo_log import log
from watcher.applier.actions import base
from watcher.common import exception as watcher_exception
from watcher.common.metal_helper import constants as metal_constants
from watcher.common import nova_helper

from heatwatcher.conf import node_power as node_power_options
from heatwatcher import metal

LOG = log.getLogger(__name__)

ON = metal_constants.PowerState.ON.value
OFF = metal_constants.PowerState.OFF.value


class NodePowerFailure(watcher_exception.WatcherException):
    """The node could not be put in the requested power state safely."""

    msg_fmt = '%(host)s (bare metal node %(node)s): %(reason)s'


class NodePower(base.BaseAction):
    """Power a compute node on or off, checking Nova before and after."""

    @classmethod
    def get_config_opts(cls):
        return list(node_power_options.OPTS)

    def __init__(self, config, osc=None):
        super().__init__(config, osc)
        self._metal_helper = None
        self._nova = None
        self._previous_state = None
        self._reached = False
        # Replaced in unit tests, so that waits take no time.
        self.sleep = time.sleep
        self.clock = time.monotonic

    @property
    def schema(self):
        return {
            'type': 'object',
            'properties': {
                'resource_id': {'type': 'string', 'minLength': 1},
                'resource_name': {'type': 'string', 'minLength': 1},
                'state': {'type': 'string', 'enum': [ON, OFF]},
            },
            'required': ['resource_id', 'state'],
            'additionalProperties': False,
        }

    @property
    def state(self):
        return self.input_parameters.get('state')

    @property
    def metal_helper(self):
        if self._metal_helper is None:
            self._metal_helper = metal.metal_helper(self.osc)
        return self._metal_helper

    @property
    def nova(self):
        if self._nova is None:
            self._nova = nova_helper.NovaHelper()
        return self._nova

    def _option(self, name):
        """The option's value from the action's config, else its default."""
        value = getattr(self.config, name, None) if self.config else None
        if value is None:
            value = next(opt.default for opt in node_power_options.OPTS
                         if opt.dest == name)
        return value

    def _node(self):
        try:
            return self.metal_helper.get_node(self.resource_id)
        except Exception as exc:
            raise NodePowerFailure(host=self._hostname_hint(),
                                   node=self.resource_id,
                                   reason='the bare metal service does not '
                                          'know this node: %s' % exc)

    def _hostname_hint(self):
        return self.input_parameters.get('resource_name') or 'host'

    def _hostname(self, node):
        """The compute host's name: the parameter, else the node's."""
        name = self.input_parameters.get('resource_name')
        if name:
            return name
        try:
            return node.get_hypervisor_hostname()
        except Exception as exc:
            raise NodePowerFailure(host='host', node=self.resource_id,
                                   reason='no resource_name given and the '
                                          'node has no hypervisor (%s)'
                                          % exc)

    def _check_empty(self, hostname):
        """Fail if Nova lists any instance on ``hostname``."""
        servers = self.nova.get_instance_list(filters={'host': hostname})
        if servers:
            listed = ', '.join('%s (%s, %s)' % (server.name, server.uuid,
                                                server.status)
                               for server in servers[:10])
            more = ', ...' if len(servers) > 10 else ''
            raise NodePowerFailure(
                host=hostname, node=self.resource_id,
                reason='not powered off: Nova still lists %d instance(s) on '
                       'it: %s%s' % (len(servers), listed, more))

    def _wait_for_power_state(self, hostname, target):
        deadline = self.clock() + self._option('power_state_timeout')
        observed = None
        while True:
            observed = self._node().get_power_state().value
            if observed == target:
                return
            if self.clock() >= deadline:
                raise NodePowerFailure(
                    host=hostname, node=self.resource_id,
                    reason='power state still %r, not %r, after %s s'
                           % (observed, target,
                              self._option('power_state_timeout')))
            self.sleep(self._option('poll_interval'))

    def _service(self, hostname):
        return next((service for service in self.nova.get_service_list()
                     if service.host == hostname), None)

    def _wait_for_service_up(self, hostname):
        timeout = self._option('service_up_timeout')
        if not timeout:
            return
        deadline = self.clock() + timeout
        while True:
            service = self._service(hostname)
            if service is not None and service.state == 'up':
                return
            if self.clock() >= deadline:
                raise NodePowerFailure(
                    host=hostname, node=self.resource_id,
                    reason='powered on, but its nova-compute service is %s '
                           'after %s s' % ('missing' if service is None
                                           else repr(service.state),
                                           timeout))
            self.sleep(self._option('poll_interval'))

    def _power(self, target):
        """Put the node in ``target`` state, with the checks around it."""
        node = self._node()
        hostname = self._hostname(node)
        current = node.get_power_state().value
        if target == OFF:
            self._check_empty(hostname)
        if current != target:
            LOG.info('heatwatcher_node_power: powering %s %s (node %s, now '
                     '%s)', hostname, target, self.resource_id, current)
            try:
                node.set_power_state(target)
            except Exception as exc:
                raise NodePowerFailure(
                    host=hostname, node=self.resource_id,
                    reason='the bare metal service refused power %s: %s'
                           % (target, exc))
            self._wait_for_power_state(hostname, target)
        if target == ON:
            self._wait_for_service_up(hostname)
        return True

    def pre_condition(self):
        """The node exists; before a power-off, its host holds nothing."""
        node = self._node()
        self._previous_state = node.get_power_state().value
        if self.state == OFF:
            self._check_empty(self._hostname(node))

    def execute(self):
        self._reached = self._power(self.state)
        return self._reached

    def post_condition(self):
        """After a successful execution the node is in the state asked."""
        if not self._reached:
            return
        observed = self._node().get_power_state().value
        if observed != self.state:
            raise NodePowerFailure(
                host=self._hostname_hint(), node=self.resource_id,
                reason='power state is %r after the action, not %r'
                       % (observed, self.state))

    def revert(self):
        """Back to the power state the node had before the action."""
        previous = self._previous_state or (OFF if self.state == ON
                                            else ON)
        if previous not in (ON, OFF):
            LOG.warning('heatwatcher_node_power: node %s was %s before the '
                        'action; not reverted', self.resource_id, previous)
            return False
        return self._power(previous)

    def get_description(self):
        return ('Powers a compute node on or off through the bare metal '
                'service; refuses a power-off while Nova lists instances on '
                'the host, and waits for the power state and, after a '
                'power-on, for the nova-compute service to be up.')
