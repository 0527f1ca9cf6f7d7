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

import re
from unittest import mock

import fixtures

from watcher.common import utils
from watcher.decision_engine.strategy.strategies import base as base_strategy
from watcher.tests import base
from watcher.tests.local_fixtures import conf_fixture

from heatwatcher import exception
from heatwatcher.goals import heat_reuse
from heatwatcher.optimize import bound as lp_bound
from heatwatcher.optimize import solver
from heatwatcher.strategies import heat_consolidation
from heatwatcher.strategies import heat_consolidation_settings as hs
from heatwatcher.telemetry import collect
from heatwatcher.telemetry import history_cache
from tests import synthetic


class TestCase(base.WatcherBaseTestCase):
    """Watcher's base test case with its configuration parsed."""

    def setUp(self):
        super().setUp()
        self.useFixture(conf_fixture.ConfReloadFixture())


class TestHeatConsolidationStrategy(TestCase):

    def setUp(self):
        super().setUp()
        self.cluster = synthetic.generate(8, seed=3)
        self.model = synthetic.to_model(self.cluster)
        values = {o.dest: o.default for o in hs.config_opts()}
        values['datasources'] = None
        self.strategy = heat_consolidation.HeatConsolidation(
            config=utils.Struct(values))
        for name, value in (('compute_model', self.model),
                            ('datasource_backend',
                             synthetic.to_datasource(self.cluster))):
            p = mock.patch.object(base_strategy.BaseStrategy, name,
                                  new_callable=mock.PropertyMock,
                                  return_value=value)
            p.start()
            self.addCleanup(p.stop)

    def run_strategy(self, **params):
        p = dict(synthetic.strategy_parameters(self.cluster),
                 solver_time_limit=20)
        p.update(params)
        self.strategy.input_parameters = utils.Struct(p)
        return self.strategy.execute()

    def test_classmethods(self):
        cls = heat_consolidation.HeatConsolidation
        self.assertEqual('heat_consolidation', cls.get_name())
        self.assertEqual('Heat Consolidation', cls.get_display_name())
        self.assertEqual('heat_reuse', cls.get_goal_name())
        names = [o.dest for o in cls.get_config_opts()]
        self.assertEqual('datasources', names[0])
        self.assertIn('loop_hosts', names)

    def test_solution_actions_model_and_indicators(self):
        before = {i.uuid: i.host for i in self.cluster.instances}
        solution = self.run_strategy()
        migrations = [a for a in solution.actions
                      if a['action_type'] == 'migrate']
        self.assertTrue(migrations)
        for a in migrations:
            p = a['input_parameters']
            self.assertEqual(before[p['resource_id']], p['source_node'])
            node = self.model.get_node_by_instance_uuid(p['resource_id'])
            self.assertEqual(p['destination_node'], node.hostname)
        disabled = [a for a in solution.actions
                    if a['action_type'] == 'change_nova_service_state']
        for a in disabled:
            node = self.model.get_node_by_uuid(
                a['input_parameters']['resource_id'])
            self.assertEqual([], self.model.get_node_instances(node))
            self.assertEqual('disabled', node.status)
        ind = {i.name: i.value for i in solution.efficacy_indicators}
        self.assertEqual(len(migrations), ind['instance_migrations_count'])
        self.assertEqual(len(disabled), ind['released_compute_nodes_count'])
        for name, value in ind.items():
            self.assertIn(type(value), (int, float), name)
        self.assertGreater(ind['hosts_reaching_target_count'], 0)
        ratio = solution.global_efficacy[0]
        self.assertEqual('hosts_reaching_target_ratio', ratio.name)
        # Rounded to one decimal: the dashboard shows it as it is stored.
        self.assertEqual(
            round(100.0 * ind['hosts_reaching_target_count']
                  / ind['loop_hosts_count'], 1), ratio.value)

    def test_report_gives_the_solvers_hosts_at_target_beside_its_bound(self):
        # A bound no placement reaches (every loop host), so that the two
        # counts differ.
        loop_hosts = sum(host.loop for host in self.cluster.hosts)
        with mock.patch.object(solver.lp_bound, 'upper_bound',
                               return_value=lp_bound.Bound(
                                   loop_hosts, float(loop_hosts), 'lp')):
            self.run_strategy(solver_time_limit=5)
        solver_report = self.strategy.report['solver']
        reached, bound = (solver_report['reached'],
                          solver_report['upper_bound'])
        self.assertIs(int, type(reached))
        self.assertEqual(loop_hosts, bound)
        self.assertGreater(reached, 0)
        self.assertLess(reached, bound)
        # The counts of the audit's summary line, "N/M loop hosts at
        # target (bound B)".
        summary = re.search(
            r'(\d+)/\d+ loop hosts at target \(bound (\d+)\)',
            self.strategy.report['summary'])
        self.assertEqual((reached, bound),
                         (int(summary.group(1)), int(summary.group(2))))

    def _history_caches(self):
        """The ``cache`` each history read of one audit was given."""
        with mock.patch.object(collect, 'instance_series',
                               wraps=collect.instance_series) as instances, \
                mock.patch.object(collect, 'host_series',
                                  wraps=collect.host_series) as hosts:
            self.run_strategy()
        return [call.kwargs.get('cache')
                for call in instances.call_args_list + hosts.call_args_list]

    def test_history_is_read_through_the_process_cache(self):
        caches = self._history_caches()
        self.assertEqual(2, len(caches))
        for cache in caches:
            self.assertIs(history_cache.process_cache(3600), cache)
            self.assertIsNone(cache.directory)   # state_path unset

    def test_kept_series_are_saved_in_state_path(self):
        directory = self.useFixture(fixtures.TempDir()).path
        self.flags(state_path=directory, group='heatwatcher')
        caches = self._history_caches()
        self.assertEqual({directory}, {cache.directory for cache in caches})

    def test_telemetry_cache_off_reads_without_a_cache(self):
        self.flags(telemetry_cache=False, group='heatwatcher')
        self.assertEqual([None, None], self._history_caches())

    def test_max_migrations_parameter(self):
        solution = self.run_strategy(max_migrations=1)
        self.assertEqual(1, sum(a['action_type'] == 'migrate'
                                for a in solution.actions))

    def _migrations(self, solution):
        return sum(a['action_type'] == 'migrate' for a in solution.actions)

    def test_migration_heat_cost_keeps_the_migrations_worth_it(self):
        solution = self.run_strategy(migration_heat_cost=40.0)
        made = self._migrations(solution)
        note = re.search(r"migration_heat_cost: (\d+) migrations worth "
                         r"(\d+) W at 40 W each, from (.*) \(the plan "
                         r"makes (\d+); subsets worth the most: of the "
                         r"plan, ",
                         '\n'.join(self.strategy.report['notes']))
        self.assertEqual(made, int(note.group(1)))
        self.assertGreater(made, 0)
        self.assertGreater(int(note.group(2)), 0)
        self.assertLess(made, int(note.group(4)))
        ind = {i.name: i.value for i in solution.efficacy_indicators}
        self.assertEqual(made, ind['instance_migrations_count'])

    def test_migration_heat_cost_above_any_gain_plans_nothing(self):
        solution = self.run_strategy(migration_heat_cost=100000.0)
        self.assertEqual(0, self._migrations(solution))
        self.assertIn('migration_heat_cost: no migration is worth 100000 W',
                      '\n'.join(self.strategy.report['notes']))

    def test_invalid_parameter_fails_and_sets_audit_message(self):
        audit = mock.Mock(status_message=None)
        self.strategy.input_parameters = utils.Struct(
            loop_hosts=['nope-*'])
        self.assertRaises(exception.InvalidParameter,
                          self.strategy.do_execute, audit)
        self.assertIn("loop_hosts: 'nope-*' matches no",
                      audit.status_message)


class TestGoal(TestCase):

    def test_spec(self):
        goal = heat_reuse.HeatReuse(config=None)
        spec = goal.efficacy_specification
        names = [s.name for s in spec.indicators_specs]
        self.assertEqual([n for n, *_ in heat_reuse.INDICATORS], names)
        self.assertEqual('Heat Reuse', heat_reuse.HeatReuse
                         .get_display_name())
        ge = spec.get_global_efficacy_indicator(
            {'loop_hosts_count': 8, 'hosts_reaching_target_count': 6})
        self.assertEqual(75.0, ge[0].value)
        ge = spec.get_global_efficacy_indicator(
            {'loop_hosts_count': 12, 'hosts_reaching_target_count': 7})
        self.assertEqual(58.3, ge[0].value)
        ge = spec.get_global_efficacy_indicator({'loop_hosts_count': 0})
        self.assertEqual(0.0, ge[0].value)
