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

import types
import unittest

import numpy as np

from heatwatcher import exception
from heatwatcher.strategies import thermal_shedding_settings as ts
from heatwatcher.thermal import evacuation
from heatwatcher.thermal import events
from heatwatcher.thermal import plan
from heatwatcher.thermal import ranking


def conf(**over):
    values = {o.dest: o.default for o in ts.config_opts()}
    values.update(over)
    return types.SimpleNamespace(**values)


def settings(**params):
    return ts.resolve(conf(), params)


def host(name, zone='hot', temp=41.0, heat=300.0, room=(64, 1e6, 1e6),
         shed=False, active=True, protected=False, node='bm'):
    return plan.Host(name, zone, active, shed, protected, temp, heat, 100.0,
                     16.0, np.array(room, float), node and node + name)


def inst(uuid, host_name, vcpus=2, priority=0.0, project=0.0, age=0.0,
         load=1.0, state='active', group=None):
    return plan.Inst(uuid, host_name, np.array([vcpus, 1024, 10], float),
                     load, state, priority, project, age, group)


class TestHysteresis(unittest.TestCase):

    def test_trace_through_the_thresholds(self):
        s = settings()  # T1 40, T2 37, T3 34
        sensor = host('h1')              # stays on and reports the zone
        victim = host('h2', heat=900.0)  # shed at the first step
        cool = host('c1', zone='cool', temp=25.0, room=(256, 1e6, 1e6))
        trace = []
        for t in (41.0, 38.5, 35.5, 33.0):
            sensor.temperature = t
            d = plan.decide([sensor, victim, cool], [], s)
            trace.append(d.zones['hot']['action'])
            if trace[-1] == 'shed':
                self.assertIn(victim.name, [h.name for h, _ in d.shed])
                victim.shed, victim.active = True, False
            if trace[-1] == 'power_up':
                self.assertEqual(['h2'], [h.name for h in d.power_up])
        self.assertEqual(['shed', 'hold', 'none', 'power_up'], trace)

    def test_zone_action_table(self):
        a = events.zone_action
        self.assertEqual('shed', a(40.0, False, 40, 37, 34))
        self.assertEqual('hold', a(39.0, True, 40, 37, 34))
        self.assertEqual('none', a(39.0, False, 40, 37, 34))
        self.assertEqual('none', a(36.0, True, 40, 37, 34))
        self.assertEqual('power_up', a(33.9, True, 40, 37, 34))
        self.assertEqual('none', a(33.9, False, 40, 37, 34))
        self.assertEqual('none', a(None, True, 40, 37, 34))

    def test_thresholds_are_validated(self):
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'clear_temperature: T2 .* below'):
            settings(trigger_temperature=35.0, clear_temperature=36.0)
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'power_up_temperature: T3 .* at most'):
            settings(power_up_temperature=38.0)


class TestBudgetAndPowerUp(unittest.TestCase):

    def test_requirement(self):
        self.assertEqual(1200.0, events.requirement(40.0, 37.0, 400.0))
        self.assertEqual(500.0, events.requirement(40.0, 37.0, 400.0,
                                                   zone_heat=2000.0,
                                                   budget=1500.0))
        self.assertEqual(0.0, events.requirement(36.0, 37.0, 400.0))

    def test_power_up_stops_before_t3_and_at_the_limit(self):
        # 30 degC, T3 34, 400 W/degC: 3 x 500 W -> 31.25, 32.5, 33.75
        self.assertEqual(3, events.power_up_count(30.0, 34.0, 400.0,
                                                  [500] * 5, 10))
        self.assertEqual(2, events.power_up_count(30.0, 34.0, 400.0,
                                                  [500] * 5, 2))

    def test_shedding_stops_once_the_requirement_is_met(self):
        s = settings(watts_per_degree=100.0)  # 41 - 37 = 4 -> 400 W
        hosts = [host('h%d' % k, heat=250.0) for k in range(4)] + [
            host('c1', zone='cool', temp=25.0, room=(256, 1e6, 1e6))]
        d = plan.decide(hosts, [], s)
        self.assertEqual(2, len(d.shed))
        self.assertEqual((400.0, 500.0), (d.required, d.reduction))

    def test_protected_hosts_are_never_shed(self):
        s = settings(watts_per_degree=1e4)
        hosts = [host('ctl', protected=True, heat=900.0), host('h1'),
                 host('c1', zone='cool', temp=25.0)]
        d = plan.decide(hosts, [], s)
        self.assertEqual(['h1'], [h.name for h, _ in d.shed])
        self.assertIn('zone hot: ctl is protected', d.notes)


class TestRanking(unittest.TestCase):

    def rank(self, insts, hosts=None):
        hosts = hosts or [host('a'), host('b')]
        f = plan._factors(hosts, insts, {'hot': 41.0}, 37.0)
        return ranking.order([h.name for h in hosts], f,
                             settings().weights)

    def test_each_cost_factor_pushes_a_host_later(self):
        cases = {
            'instances': [inst('1', 'a'), inst('2', 'a'), inst('3', 'b')],
            'uptime': [inst('1', 'a', age=9e5), inst('2', 'b', age=10)],
            'size': [inst('1', 'a', vcpus=8), inst('2', 'b', vcpus=1)],
            'cpu': [inst('1', 'a', load=6), inst('2', 'b', load=1)],
            'priority': [inst('1', 'a', priority=9), inst('2', 'b')],
            'project': [inst('1', 'a', project=5), inst('2', 'b')],
            'redundancy': [inst('1', 'a', group='g'), inst('2', 'a',
                                                           group='g'),
                           inst('3', 'b', group='h'), inst('4', 'a',
                                                           group='h')],
        }
        for factor, insts in cases.items():
            self.assertEqual(['b', 'a'], self.rank(insts), factor)

    def test_heat_benefit_pushes_a_host_earlier(self):
        hosts = [host('a', heat=200.0), host('b', heat=450.0)]
        self.assertEqual(['b', 'a'], self.rank([], hosts))

    def test_normalise(self):
        np.testing.assert_allclose([0, 0.5, 1],
                                   ranking.normalise([2, 4, 6]))
        np.testing.assert_allclose([0, 0], ranking.normalise([3, 3]))


class TestEvacuation(unittest.TestCase):

    def insts(self):
        return [{'uuid': 'big', 'demand': np.array([8, 0, 0]),
                 'priority': 1.0, 'state': 'active'},
                {'uuid': 'vip', 'demand': np.array([4, 0, 0]),
                 'priority': 9.0, 'state': 'active'},
                {'uuid': 'low', 'demand': np.array([4, 0, 0]),
                 'priority': 0.0, 'state': 'active'}]

    def test_best_fit_and_importance_first(self):
        room = {'x': np.array([8, 10, 10]), 'y': np.array([12, 10, 10])}
        ev = evacuation.evacuate(self.insts(), room, 'skip_host')
        self.assertTrue(ev.ok)
        self.assertEqual([('vip', 'x'), ('big', 'y'), ('low', 'x')],
                         ev.moves)
        np.testing.assert_array_equal([0, 10, 10], room['x'])

    def test_skip_host_leaves_room_untouched(self):
        room = {'x': np.array([8, 10, 10])}
        ev = evacuation.evacuate(self.insts(), room, 'skip_host')
        self.assertFalse(ev.ok)
        np.testing.assert_array_equal([8, 10, 10], room['x'])

    def test_stop_low_priority_stops_what_fits_nowhere(self):
        room = {'x': np.array([8, 10, 10])}
        ev = evacuation.evacuate(self.insts(), room, 'stop_low_priority')
        self.assertTrue(ev.ok)
        # vip placed first; big fits nowhere and is stopped; low fits
        self.assertEqual([('vip', 'x'), ('low', 'x')], ev.moves)
        self.assertEqual(['big'], ev.stops)
