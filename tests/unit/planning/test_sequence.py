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

import unittest

import numpy as np

from heatwatcher.planning import sequence


def mig(uuid, src, dst):
    return {'action_type': 'migrate', 'input_parameters': {
        'resource_id': uuid, 'source_node': src, 'destination_node': dst,
        'migration_type': 'live', 'resource_name': 'vm-' + uuid}}


def service(host, state):
    return {'action_type': 'change_nova_service_state', 'input_parameters': {
        'resource_id': 'u-' + host, 'resource_name': host, 'state': state}}


def power(host, state):
    return {'action_type': 'change_node_power_state', 'input_parameters': {
        'resource_id': 'bm-' + host, 'resource_name': host, 'state': state}}


CAP = [8.0, 1e6, 1e6]


class TestSequence(unittest.TestCase):

    def run_seq(self, actions, usage, demand, capacity=None, limits=None):
        capacity = capacity or {h: CAP for h in usage}
        res = sequence.sequence(actions, capacity, usage, demand, limits)
        worst, _, bad = sequence.check_steps(res.actions, res.parents,
                                             capacity, usage, demand)
        self.assertEqual((0.0, []), (worst, bad))
        for k, ps in enumerate(res.parents):
            self.assertTrue(all(p < k for p in ps))
        return res

    def test_swap_on_full_hosts_uses_a_temporary_host(self):
        usage = {'a': [8, 0, 0], 'b': [8, 0, 0], 'c': [4, 0, 0]}
        demand = {'x': [4, 0, 0], 'y': [4, 0, 0]}
        res = self.run_seq([mig('x', 'a', 'b'), mig('y', 'b', 'a')], usage,
                           demand)
        self.assertEqual(1, res.temporary_hops)
        legs = [(a['input_parameters']['resource_id'],
                 a['input_parameters']['source_node'],
                 a['input_parameters']['destination_node'])
                for a in res.actions]
        self.assertEqual(3, len(legs))
        self.assertIn(('x', 'a', 'c'), legs)
        self.assertIn(('x', 'c', 'b'), legs)
        self.assertLess(legs.index(('x', 'a', 'c')),
                        legs.index(('x', 'c', 'b')))

    def test_swap_without_room_anywhere_is_an_error(self):
        usage = {'a': [8, 0, 0], 'b': [8, 0, 0]}
        demand = {'x': [4, 0, 0], 'y': [4, 0, 0]}
        with self.assertRaisesRegex(sequence.SequencingError,
                                    'a, b wait for each other'):
            sequence.sequence([mig('x', 'a', 'b'), mig('y', 'b', 'a')],
                              {h: CAP for h in usage}, usage, demand)

    def test_chain_waits_for_room(self):
        # b is full: y must leave b (to c) before x can enter b
        usage = {'a': [4, 0, 0], 'b': [8, 0, 0], 'c': [0, 0, 0]}
        demand = {'x': [4, 0, 0], 'y': [4, 0, 0]}
        res = self.run_seq([mig('x', 'a', 'b'), mig('y', 'b', 'c')], usage,
                           demand)
        self.assertEqual(2, res.waves)
        order = [a['input_parameters']['resource_id'] for a in res.actions]
        self.assertEqual(['y', 'x'], order)
        self.assertEqual([[], [0]], res.parents)

    def test_wave_limits(self):
        usage = {'a': [8, 0, 0], 'b': [0, 0, 0], 'c': [0, 0, 0]}
        demand = {k: [1, 0, 0] for k in 'wxyz'}
        acts = [mig(k, 'a', 'b' if k in 'wx' else 'c') for k in 'wxyz']
        res = self.run_seq(acts, usage, demand)
        self.assertEqual(4, res.waves)  # one per source at a time
        res = self.run_seq(acts, usage, demand,
                           limits=sequence.Limits(8, 4, 1))
        self.assertEqual(2, res.waves)  # one per destination at a time

    def test_service_and_power_order(self):
        usage = {'a': [4, 0, 0], 'b': [0, 0, 0], 'c': [2, 0, 0]}
        demand = {'x': [4, 0, 0], 'y': [2, 0, 0]}
        acts = [service('a', 'disabled'), power('a', 'off'),
                mig('x', 'a', 'b'), power('b', 'on'),
                service('b', 'enabled'), mig('y', 'c', 'b'),
                service('c', 'disabled')]
        res = self.run_seq(acts, usage, demand)
        kinds = [(a['action_type'], a['input_parameters']['resource_name'])
                 for a in res.actions]
        pos = {k: i for i, k in enumerate(kinds)}
        on_b = pos[('change_node_power_state', 'b')]
        en_b = pos[('change_nova_service_state', 'b')]
        mx, my = pos[('migrate', 'vm-x')], pos[('migrate', 'vm-y')]
        dis_a = pos[('change_nova_service_state', 'a')]
        off_a = pos[('change_node_power_state', 'a')]
        self.assertLess(on_b, en_b)
        self.assertIn(on_b, res.parents[en_b])
        self.assertIn(en_b, res.parents[mx])
        self.assertEqual([mx], res.parents[dis_a])
        self.assertEqual(sorted([mx, my, dis_a]), res.parents[off_a])
        self.assertEqual([my], res.parents[
            pos[('change_nova_service_state', 'c')]])

    def test_overloaded_step_is_detected_by_the_replay(self):
        usage = {'a': [8, 0, 0], 'b': [8, 0, 0]}
        demand = {'x': [4, 0, 0], 'y': [4, 0, 0]}
        acts = [mig('x', 'a', 'b'), mig('y', 'b', 'a')]
        worst, steps, _ = sequence.check_steps(
            acts, [[], []], {h: CAP for h in usage}, usage, demand)
        self.assertEqual((4.0, 1), (worst, steps))

    def test_release_of_a_busy_host_is_detected_by_the_replay(self):
        usage = {'a': [4, 0, 0], 'b': [0, 0, 0]}
        acts = [power('a', 'off'), mig('x', 'a', 'b')]
        _, _, bad = sequence.check_steps(
            acts, [[], [0]], {h: CAP for h in usage}, usage,
            {'x': [4, 0, 0]}, count={'a': 1, 'b': 0})
        self.assertEqual(['step 0: change_node_power_state off of a, which '
                          'holds 1 instances'], bad)

    def test_unknown_host_is_an_error(self):
        with self.assertRaisesRegex(sequence.SequencingError,
                                    "destination_node 'zz'"):
            sequence.sequence([mig('x', 'a', 'zz')], {'a': CAP},
                              {'a': np.zeros(3)}, {'x': [1, 0, 0]})
