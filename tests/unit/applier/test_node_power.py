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
"""The heatwatcher_node_power action against fake metal and Nova helpers."""

import types
import unittest

import jsonschema
from watcher.common.metal_helper import constants as metal_constants
from watcher.common import utils

from heatwatcher.applier import node_power

HOST = 'compute-7'
NODE = 'ironic-compute-7'


class FakeClock:
    """A clock that advances only when the action sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeNode:
    """A bare metal node whose state changes after ``lag`` reads."""

    def __init__(self, state='on', lag=1, refuse=None):
        self.state = state
        self.target = None
        self.lag = lag
        self.refuse = refuse
        self.calls = []

    def get_power_state(self):
        if self.target is not None:
            if self.lag <= 0:
                self.state, self.target = self.target, None
            else:
                self.lag -= 1
        return metal_constants.PowerState(self.state)

    def set_power_state(self, state):
        self.calls.append(state)
        if self.refuse:
            raise RuntimeError(self.refuse)
        self.target = state

    def get_hypervisor_hostname(self):
        return HOST


class FakeMetalHelper:
    def __init__(self, node):
        self.node = node

    def get_node(self, node_id):
        if node_id != NODE:
            raise KeyError(node_id)
        return self.node


class FakeNova:
    def __init__(self, servers=(), service_states=('up',)):
        self.servers = list(servers)
        self.service_states = list(service_states)

    def get_instance_list(self, filters=None):
        return [server for server in self.servers
                if server.host == filters['host']]

    def get_service_list(self):
        state = (self.service_states.pop(0) if len(self.service_states) > 1
                 else self.service_states[0])
        return [types.SimpleNamespace(host=HOST, state=state,
                                      status='enabled')]


def server(name, host=HOST, status='SHUTOFF'):
    return types.SimpleNamespace(name=name, uuid='uuid-' + name, host=host,
                                 status=status)


def action(state, node, nova, **options):
    config = utils.Struct({'power_state_timeout': 60, 'poll_interval': 5.0,
                           'service_up_timeout': 30})
    config.update(options)
    power = node_power.NodePower(config)
    power.input_parameters = {'resource_id': NODE, 'state': state,
                              'resource_name': HOST}
    power._metal_helper = FakeMetalHelper(node)
    power._nova = nova
    clock = FakeClock()
    power.clock, power.sleep = clock, clock.sleep
    return power, clock


class TestNodePower(unittest.TestCase):

    def run_action(self, power):
        power.validate_parameters()
        power.pre_condition()
        result = power.execute()
        power.post_condition()
        return result

    def test_power_off_an_empty_host_waits_for_the_state(self):
        node = FakeNode('on', lag=2)
        power, clock = action('off', node, FakeNova([server('x', 'other')]))
        self.assertTrue(self.run_action(power))
        self.assertEqual(['off'], node.calls)
        self.assertEqual('off', node.state)
        self.assertEqual([5.0, 5.0], clock.sleeps)

    def test_power_off_refused_while_nova_lists_an_instance(self):
        node = FakeNode('on')
        power, _ = action('off', node, FakeNova([server('db-1')]))
        with self.assertRaisesRegex(
                node_power.NodePowerFailure,
                r'compute-7 \(bare metal node ironic-compute-7\): not '
                r'powered off: Nova still lists 1 instance\(s\) on it: '
                r'db-1 \(uuid-db-1, SHUTOFF\)'):
            power.pre_condition()
        # and at execution time too, if one arrived after the check
        with self.assertRaises(node_power.NodePowerFailure):
            power.execute()
        self.assertEqual([], node.calls)

    def test_timeout_fails_with_the_observed_state(self):
        node = FakeNode('on', lag=1000)
        power, clock = action('off', node, FakeNova())
        with self.assertRaisesRegex(node_power.NodePowerFailure,
                                    "power state still 'on', not 'off', "
                                    "after 60 s"):
            self.run_action(power)
        self.assertEqual(60.0, clock.now)

    def test_refusal_by_the_bare_metal_service(self):
        node = FakeNode('off', refuse='node is locked')
        power, _ = action('on', node, FakeNova())
        with self.assertRaisesRegex(node_power.NodePowerFailure,
                                    'refused power on: node is locked'):
            power.execute()

    def test_power_on_waits_for_the_compute_service(self):
        node = FakeNode('off', lag=0)
        nova = FakeNova(service_states=['down', 'down', 'up'])
        power, clock = action('on', node, nova)
        self.assertTrue(self.run_action(power))
        self.assertEqual('on', node.state)
        self.assertEqual([5.0, 5.0], clock.sleeps)

    def test_power_on_fails_when_the_service_stays_down(self):
        power, _ = action('on', FakeNode('off', lag=0),
                          FakeNova(service_states=['down']))
        with self.assertRaisesRegex(node_power.NodePowerFailure,
                                    "nova-compute service is 'down' after "
                                    "30 s"):
            power.execute()

    def test_already_in_state_sets_nothing(self):
        node = FakeNode('off')
        power, _ = action('off', node, FakeNova())
        self.assertTrue(self.run_action(power))
        self.assertEqual([], node.calls)

    def test_revert_restores_the_previous_state(self):
        node = FakeNode('on', lag=0)
        power, _ = action('off', node, FakeNova())
        self.run_action(power)
        self.assertEqual('off', node.state)
        self.assertTrue(power.revert())
        self.assertEqual(['off', 'on'], node.calls)
        self.assertEqual('on', node.state)

    def test_revert_of_a_power_on_refuses_a_busy_host(self):
        node = FakeNode('off', lag=0)
        nova = FakeNova()
        power, _ = action('on', node, nova)
        self.run_action(power)
        nova.servers.append(server('arrived'))
        with self.assertRaisesRegex(node_power.NodePowerFailure, 'arrived'):
            power.revert()
        self.assertEqual('on', node.state)

    def test_unknown_node(self):
        power, _ = action('on', FakeNode('off'), FakeNova())
        power.input_parameters['resource_id'] = 'nope'
        with self.assertRaisesRegex(node_power.NodePowerFailure,
                                    'does not know this node'):
            power.pre_condition()

    def test_schema(self):
        power, _ = action('off', FakeNode(), FakeNova())
        for bad in ({'resource_id': NODE, 'state': 'reboot'},
                    {'state': 'off'},
                    {'resource_id': NODE, 'state': 'off', 'extra': 1},
                    {'resource_id': '', 'state': 'off'}):
            power.input_parameters = bad
            with self.assertRaises(jsonschema.ValidationError):
                power.validate_parameters()

    def test_defaults_come_from_the_options(self):
        power = node_power.NodePower(utils.Struct())
        self.assertEqual(600, power._option('power_state_timeout'))
        self.assertEqual(10.0, power._option('poll_interval'))
