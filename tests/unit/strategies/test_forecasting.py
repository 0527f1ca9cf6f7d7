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
"""heat_consolidation's modes, failsafe, damping and saved models."""

import datetime
import os
import tempfile
from unittest import mock

from watcher.common import utils
from watcher.decision_engine.strategy.strategies import base as base_strategy

from heatwatcher.strategies import heat_consolidation
from heatwatcher.strategies import heat_consolidation_settings as hs
from heatwatcher.telemetry import series as telemetry_series
from tests import synthetic
from tests.unit.strategies import test_heat_consolidation as thc

NOW = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.timezone.utc)


def rising_cluster():
    """Two 8-core loop hosts, two 4-vCPU instances each.

    Power 100 W idle, 300 W at 8 busy cores; target 200 W needs 4 cores.
    Every day the instances idle at 10 % and are busy at 80 % from 12:00 to
    14:00; the audit runs at 12:00. At 10 % even all four on one host give
    140 W, so measured load says "empty a host"; at 80 % each host gives
    260 W and one host could not hold all the load.
    """
    hosts = [synthetic.Host('h%d' % k, 'cccc%04d-0000-4000-8000-%012d'
                            % (k, k), 'x', 8, 65536, 500, 4.0, 100.0,
                            300.0, True) for k in (1, 2)]
    insts = [synthetic.Instance('dddd0000-0000-4000-8000-%012d' % i,
                                'vm-%d' % i, 'h%d' % (1 + i // 2), 4, 8192,
                                20, 10.0) for i in range(4)]
    return synthetic.Cluster(hosts, insts, 0.5)


class TestForecastModes(thc.TestCase):

    def setUp(self):
        super().setUp()
        self.cluster = rising_cluster()
        self.series = synthetic.daily_cycle(
            [i.uuid for i in self.cluster.instances], NOW, days=14,
            busy=(12, 14))

    def run_strategy(self, **params):
        values = {o.dest: o.default for o in hs.config_opts()}
        values['datasources'] = None
        self.strategy = heat_consolidation.HeatConsolidation(
            config=utils.Struct(values))
        ds = telemetry_series.SeriesDataSource(
            {'instance_cpu_usage': self.series}, now=NOW)
        for name, value in (('compute_model',
                             synthetic.to_model(self.cluster)),
                            ('datasource_backend', ds)):
            p = mock.patch.object(base_strategy.BaseStrategy, name,
                                  new_callable=mock.PropertyMock,
                                  return_value=value)
            p.start()
            self.addCleanup(p.stop)
        p = {'loop_hosts': ['h1', 'h2'], 'target_heat_rate': 200.0,
             'host_power_profiles': {'*': [100, 300]},
             'heat_source': 'history', 'solver_time_limit': 10}
        p.update(params)
        self.strategy.input_parameters = utils.Struct(p)
        solution = self.strategy.execute()
        migrations = [a for a in solution.actions
                      if a['action_type'] == 'migrate']
        return migrations, self.strategy.report['forecast']

    def test_reactive_empties_a_host_proactive_waits_for_the_load(self):
        migrations, fc = self.run_strategy(mode='reactive')
        self.assertEqual(2, len(migrations))
        self.assertEqual('reactive', fc['mode'])
        self.assertIsNone(fc['model'])       # no history read
        migrations, fc = self.run_strategy(mode='proactive')
        self.assertEqual([], migrations)
        self.assertEqual('proactive', fc['mode'])
        self.assertEqual(4, fc['instances_on_forecast'])
        rows = {r['name']: r['forecast']
                for r in self.strategy.report['hosts']}
        self.assertAlmostEqual(10.0, rows['h1']['measured_load'], places=3)
        self.assertAlmostEqual(80.0, rows['h1']['planned_load'], places=1)
        self.assertIn('mode proactive', self.strategy.report['summary'])

    def test_auto_starts_proactive_only_below_the_threshold(self):
        _, fc = self.run_strategy(mode=None, autostart_accuracy=5.0)
        self.assertEqual('auto', fc['requested'])
        self.assertEqual('proactive', fc['mode'])
        self.assertLess(fc['error'], 5.0)
        migrations, fc = self.run_strategy(autostart_accuracy=0.0)
        self.assertEqual('reactive', fc['mode'])
        self.assertEqual(2, len(migrations))
        self.assertIn('not below autostart_accuracy 0.00', fc['reason'])
        notes = self.strategy.report['notes']
        self.assertIn('forecast: mode reactive (auto requested): '
                      + fc['reason'], notes)

    def test_short_history_keeps_auto_reactive(self):
        self.series = synthetic.daily_cycle(
            [i.uuid for i in self.cluster.instances], NOW, days=2,
            busy=(12, 14))
        migrations, fc = self.run_strategy()
        self.assertEqual('reactive', fc['mode'])
        self.assertIn('no forecast', fc['reason'])
        self.assertEqual(2, len(migrations))

    def test_failsafe_host_is_planned_on_measured_load(self):
        migrations, fc = self.run_strategy(mode='proactive',
                                           failsafe_low=15.0)
        self.assertEqual({'h1': 10.0, 'h2': 10.0}, fc['failsafe_hosts'])
        self.assertEqual(0, fc['instances_on_forecast'])
        self.assertEqual(2, len(migrations))
        rows = {r['name']: r['forecast']
                for r in self.strategy.report['hosts']}
        self.assertEqual('reactive (failsafe)', rows['h1']['mode'])

    def test_damping_ignores_a_gain_shorter_than_min_benefit(self):
        # Busy only 12:00-12:20: a third of the one-hour horizon.
        self.series = synthetic.daily_cycle(
            [i.uuid for i in self.cluster.instances], NOW, days=14,
            busy=(12, 12 + 1 / 3.0))
        migrations, _ = self.run_strategy(mode='proactive',
                                          min_benefit_duration=0.5)
        self.assertEqual(2, len(migrations))
        migrations, _ = self.run_strategy(mode='proactive',
                                          min_benefit_duration=0.3)
        self.assertEqual([], migrations)

    def test_models_are_saved_reused_refitted_and_frozen(self):
        state = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__('shutil').rmtree(state))
        self.flags(state_path=state, group='heatwatcher')
        _, fc = self.run_strategy()
        self.assertEqual('fitted', fc['state']['source'])
        path = os.path.join(state, 'forecast-offline.json')
        self.assertTrue(os.path.exists(path))
        _, fc = self.run_strategy()
        self.assertEqual('saved', fc['state']['source'])
        self.flags(retrain_interval=0, group='heatwatcher')
        _, fc = self.run_strategy()
        self.assertEqual('fitted', fc['state']['source'])
        self.assertIn('retrain_interval 0', fc['state']['detail'])
        self.flags(predict_only=True, group='heatwatcher')
        before = os.path.getmtime(path)
        _, fc = self.run_strategy()
        self.assertEqual('saved', fc['state']['source'])
        self.assertIn('predict_only', fc['state']['detail'])
        self.assertEqual(before, os.path.getmtime(path))
        # other forecast settings: the saved models do not apply
        _, fc = self.run_strategy(slot_minutes=30)
        self.assertEqual('fitted', fc['state']['source'])
        self.assertIn('other settings', fc['state']['detail'])

    def test_forecast_settings_are_checked(self):
        from heatwatcher import exception
        for params, field in (({'slot_minutes': 7}, 'slot_minutes'),
                              ({'failsafe_low': 50, 'failsafe_high': 40},
                               'failsafe_low'),
                              ({'holidays': ['2026-13-01']}, 'holidays'),
                              ({'accuracy_window': 14 * 86400},
                               'accuracy_window')):
            with self.assertRaises(exception.InvalidParameter) as ctx:
                self.run_strategy(**params)
            self.assertIn(field, str(ctx.exception))
