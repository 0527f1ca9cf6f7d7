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
"""Hostile clusters and telemetry through the real strategy."""

import datetime
from unittest import mock

import numpy as np

from watcher.common import utils

from heatwatcher.estimation import thermal
from heatwatcher import exception
from heatwatcher.strategies import heat_consolidation
from heatwatcher.strategies import heat_consolidation_settings as hs
from heatwatcher.telemetry import series as telemetry_series
from tests.unit.strategies import test_heat_consolidation as base_tests
from tests.unit.telemetry import test_collect


class TestEdgeCases(base_tests.TestCase):

    def run_on(self, model, ds, **params):
        values = {o.dest: o.default for o in hs.config_opts()}
        values['datasources'] = None
        strategy = heat_consolidation.HeatConsolidation(
            config=utils.Struct(values))
        strategy._compute_model = model
        strategy._datasource_backend = ds
        strategy.input_parameters = utils.Struct(
            dict({'target_heat_rate': 150.0, 'solver_time_limit': 10},
                 **params))
        solution = strategy.execute()
        return strategy, solution

    def cpu(self, uuids, value=50):
        return test_collect.datasource({u: [value] * 12 for u in uuids})

    def test_no_hosts(self):
        s, sol = self.run_on(test_collect.model([]), self.cpu([]))
        self.assertEqual([], sol.actions)
        self.assertEqual(0, s.indicators['loop_hosts_count'])

    def test_all_hosts_disabled_or_down(self):
        m = test_collect.model([('a', 'up', 'disabled', ['i1']),
                                ('b', 'down', 'enabled', ['i2'])])
        s, sol = self.run_on(m, self.cpu(['i1', 'i2']))
        self.assertEqual([], sol.actions)
        for note in ('host a not considered: state up, status disabled',
                     'host b not considered: state down, status enabled'):
            self.assertIn(note, s.report['notes'])

    def test_one_host_and_no_instances(self):
        s, sol = self.run_on(test_collect.model([('a', 'up', 'enabled',
                                                  ['i1'])]),
                             self.cpu(['i1']))
        self.assertEqual([], sol.actions)
        s, sol = self.run_on(test_collect.model([('a', 'up', 'enabled', []),
                                                 ('b', 'up', 'enabled', [])]),
                             self.cpu([]))
        # empty enabled hosts are released
        self.assertEqual(['change_nova_service_state'] * 2,
                         [a['action_type'] for a in sol.actions])

    @staticmethod
    def migrated(solution):
        return [action['input_parameters']['resource_id']
                for action in solution.actions
                if action['action_type'] == 'migrate']

    def test_instance_bigger_than_any_host_stays(self):
        layout = [('a', 'up', 'enabled', ['i1']),
                  ('b', 'up', 'enabled', ['i2']),
                  ('c', 'up', 'enabled', ['i3'])]
        telemetry = ['i1', 'i2', 'i3']
        # At its normal size i1 is consolidated away from a ...
        _, solution = self.run_on(test_collect.model(layout),
                                  self.cpu(telemetry))
        self.assertIn('i1', self.migrated(solution))
        # ... but at 64 vCPUs (hosts have 16) it fits nowhere else and
        # stays, while the others are still consolidated.
        cluster = test_collect.model(layout)
        cluster.get_instance_by_uuid('i1').vcpus = 64
        _, solution = self.run_on(cluster, self.cpu(telemetry))
        moved = self.migrated(solution)
        self.assertEqual(1, len(moved), solution.actions)
        self.assertNotIn('i1', moved)

    def test_host_down_in_the_middle_of_the_model(self):
        m = test_collect.model([('a', 'up', 'enabled', ['i1']),
                                ('b', 'down', 'enabled', ['i2']),
                                ('c', 'up', 'enabled', ['i3'])])
        s, sol = self.run_on(m, self.cpu(['i1', 'i2', 'i3']))
        # a and c are consolidated onto one host, the other is released;
        # b and its instance are never touched.
        self.assertEqual(['migrate', 'change_nova_service_state'],
                         [action['action_type'] for action in sol.actions])
        for action in sol.actions:
            params = action['input_parameters']
            self.assertNotIn('b', (params.get('source_node'),
                                   params.get('destination_node'),
                                   params.get('resource_name')))
            self.assertNotEqual('i2', params['resource_id'])

    def test_all_telemetry_missing_fails_the_audit_clearly(self):
        m = test_collect.model([('a', 'up', 'enabled', ['i1']),
                                ('b', 'up', 'enabled', ['i2'])])
        ds = mock.Mock()
        ds.get_instance_cpu_usage.side_effect = RuntimeError('gnocchi down')
        with self.assertRaisesRegex(exception.TelemetryUnavailable,
                                    'missing for all 2 instances.*gnocchi '
                                    'down'):
            self.run_on(m, ds)

    def test_garbage_telemetry_is_clamped_and_noted(self):
        m = test_collect.model([('a', 'up', 'enabled', ['i1']),
                                ('b', 'up', 'enabled', ['i2'])])
        ds = mock.Mock()
        ds.get_instance_cpu_usage.side_effect = [-20.0, float('nan')]
        s, sol = self.run_on(m, ds)
        notes = ' | '.join(s.report['notes'])
        self.assertIn('instance i1: instance_cpu_usage -20.0 % clamped',
                      notes)
        self.assertIn('instance i2: instance_cpu_usage is nan', notes)
        self.assertEqual(['i2'], s.report['missing_instance_cpu_usage'])


class TestHeatSources(base_tests.TestCase):

    def telemetry(self):
        m = test_collect.model([('a', 'up', 'enabled', ['i1', 'i2']),
                                ('b', 'up', 'enabled', ['i3'])])
        now = test_collect.NOW
        n, step = 600, 300
        start = now - datetime.timedelta(seconds=n * step)
        util = (np.arange(n) * 7) % 101
        curve = np.array([120, 190, 210, 228, 244, 259, 273, 287, 300, 312,
                          324], float)
        power = np.interp(util / 100, np.linspace(0, 1, 11), curve)
        outlet = thermal.simulate(35.0, 25.0, power,
                                  thermal.Thermal(0.1, 900.0), step)
        s = {'instance_cpu_usage': {}, 'host_power': {}, 'host_cpu_usage': {},
             'host_inlet_temp': {}, 'host_outlet_temp': {}}
        for u in ('i1', 'i2', 'i3'):
            s['instance_cpu_usage'][u] = telemetry_series.Series(
                start, step, [60.0] * n)
        for host in ('a', 'b'):
            s['host_power'][host] = telemetry_series.Series(
                start, step, power)
            s['host_cpu_usage'][host] = telemetry_series.Series(
                start, step, util)
        s['host_inlet_temp']['a'] = telemetry_series.Series(start, step,
                                                            [25.0] * n)
        s['host_outlet_temp']['a'] = telemetry_series.Series(start, step,
                                                             outlet)
        return m, telemetry_series.SeriesDataSource(s, now=now)

    def test_simulation_reports_kwh_and_time_above(self):
        m, ds = self.telemetry()
        s, sol = TestEdgeCases.run_on(
            self, m, ds, heat_source='simulation',
            heat_metric='time_above_temperature',
            min_useful_temperature=45.0, target_time_above=0.8,
            idle_host_action='none')
        rows = {r['name']: r for r in s.report['hosts']}
        self.assertEqual('fitted', rows['a']['power_model']['source'])
        self.assertEqual(600, rows['a']['power_model']['samples'])
        sim = rows['a']['simulation']
        self.assertAlmostEqual(0.1, sim['r'], delta=0.005)
        self.assertGreater(sim['kwh'], 0.0)
        self.assertIsNone(rows['b']['simulation'])
        notes = ' | '.join(s.report['notes'])
        self.assertIn('host b: no thermal model', notes)
        self.assertIn('host b: heat_metric time_above_temperature needs a '
                      'thermal model', notes)
        # a reaches its time-above target with the load it holds
        self.assertGreaterEqual(sim['time_above'], 0.8)

    def test_history_uses_the_configured_model(self):
        m, ds = self.telemetry()
        s, _ = TestEdgeCases.run_on(self, m, ds, heat_source='history')
        self.assertEqual({'default'}, {r['power_model']['source']
                                       for r in s.report['hosts']})
