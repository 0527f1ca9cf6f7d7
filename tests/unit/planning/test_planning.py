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

from heatwatcher import exception
from heatwatcher.planning import actions
from heatwatcher.planning import efficacy
from heatwatcher.telemetry import collect
from tests.unit.optimize import test_solver


def snapshot():
    hosts = [collect.HostRecord('h%d' % k, 'uuid-h%d' % k, 16, 65536, 500)
             for k in range(4)]
    insts = [collect.InstanceRecord('i%d' % k, 'vm-%d' % k, 'h%d' % k, 4,
                                    4096, 20, cpu_percent=85.0)
             for k in range(4)]
    return collect.Snapshot(hosts, insts)


class TestActions(unittest.TestCase):

    def setUp(self):
        self.p = test_solver.four_by_four()
        self.assign = np.array([0, 0, 2, 2])
        self.live = ['live', 'live', 'live', 'cold']

    def test_migrations_then_disable(self):
        acts = actions.plan(snapshot(), self.p, self.assign, self.live,
                            'disable', 'watcher_heat_consolidation')
        self.assertEqual(['migrate', 'migrate', 'change_nova_service_state',
                          'change_nova_service_state'],
                         [a.action_type for a in acts])
        self.assertEqual(('i1', {'migration_type': 'live',
                                 'source_node': 'h1',
                                 'destination_node': 'h0',
                                 'resource_name': 'vm-1'}),
                         (acts[0].resource_id, acts[0].input_parameters))
        self.assertEqual('cold', acts[1].input_parameters['migration_type'])
        self.assertEqual(('uuid-h1', 'disabled', 'h1'),
                         (acts[2].resource_id,
                          acts[2].input_parameters['state'],
                          acts[2].input_parameters['resource_name']))

    def test_power_off_after_disable(self):
        acts = actions.plan(snapshot(), self.p, self.assign, self.live,
                            'power_off', 'r', {'h1': 'bm1', 'h3': 'bm3'})
        self.assertEqual(
            [('change_nova_service_state', 'uuid-h1'),
             ('heatwatcher_node_power', 'bm1'),
             ('change_nova_service_state', 'uuid-h3'),
             ('heatwatcher_node_power', 'bm3')],
            [(a.action_type, a.resource_id) for a in acts[2:]])
        watchers = actions.plan(snapshot(), self.p, self.assign, self.live,
                                'power_off', 'r', {'h1': 'bm1', 'h3': 'bm3'},
                                power_action_type='change_node_power_state')
        self.assertEqual(['change_node_power_state'] * 2,
                         [a.action_type for a in watchers
                          if a.input_parameters.get('state') == 'off'])

    def test_power_off_without_node_fails_before_any_action(self):
        with self.assertRaisesRegex(exception.BaremetalNodeNotFound,
                                    r'host\(s\) h3'):
            actions.plan(snapshot(), self.p, self.assign, self.live,
                         'power_off', 'r', {'h1': 'bm1'})

    def test_none_leaves_empty_hosts_alone(self):
        acts = actions.plan(snapshot(), self.p, self.assign, self.live,
                            'none', 'r')
        self.assertEqual({'migrate'}, {a.action_type for a in acts})


class TestEfficacy(unittest.TestCase):

    def test_values_and_plain_types(self):
        p = test_solver.four_by_four()
        ind = efficacy.indicators(p, np.array([0, 0, 2, 2]), 'power_off')
        self.assertEqual(
            {'loop_hosts_count': 4, 'hosts_reaching_target_count': 2,
             'heat_rate_before': 4 * 153.125, 'heat_rate_after': 412.5,
             'harvested_heat_rate_before': 0.0,
             'harvested_heat_rate_after': 412.5,
             'released_compute_nodes_count': 2,
             'instance_migrations_count': 2}, ind)
        for name, value in ind.items():
            self.assertIn(type(value), (int, float), name)

    def test_disabled_hosts_still_draw_idle_power(self):
        p = test_solver.four_by_four()
        ind = efficacy.indicators(p, np.array([0, 0, 2, 2]), 'disable')
        self.assertEqual(412.5 + 2 * 100.0, ind['heat_rate_after'])
        ind = efficacy.indicators(p, np.array([0, 0, 2, 2]), 'none')
        self.assertEqual(0, ind['released_compute_nodes_count'])
