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
"""The heatwatcher command, run as a user runs it (a subprocess)."""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import jsonschema

from heatwatcher.cmd import main as command_main
from heatwatcher.snapshot import load
from tests.unit.snapshot import helpers

SCHEMA = os.path.join(os.path.dirname(load.SCHEMA_PATH),
                      'plan-output-v1.schema.json')


def heatwatcher(*args):
    proc = subprocess.run(
        [sys.executable, '-W', 'ignore', '-m', 'heatwatcher.cmd.main',
         *args], capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    return proc.returncode, proc.stdout, proc.stderr


class TestPlanCommand(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, doc, name='snap.json'):
        path = os.path.join(self.tmp.name, name)
        with open(path, 'w') as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def test_bad_input_exit_2_with_one_line_reason(self):
        doc = helpers.small_snapshot()
        doc['hosts'][0]['vcpus'] = -4
        code, out, err = heatwatcher('plan', self.write(doc))
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertIn('hosts[0] (compute-1).vcpus: -4 is less than the '
                      'minimum of 0', err)
        code, _, err = heatwatcher('plan', self.write('', 'empty.json'))
        self.assertEqual((2, True), (code, 'the file is empty' in err))

    def test_plan_json_follows_the_schema_and_planner_order(self):
        code, out, err = heatwatcher('plan', self.write(
            helpers.small_snapshot()), '--format', 'json', '-q')
        self.assertEqual(0, code, err)
        doc = json.loads(out)
        with open(SCHEMA) as f:
            jsonschema.validate(doc, json.load(f))
        self.assertEqual(('heat_reuse', 'heat_consolidation'),
                         (doc['goal'], doc['strategy']))
        self.assertEqual(['compute-1', 'compute-2'],
                         doc['parameters']['loop_hosts'])
        types = [a['action_type'] for a in doc['actions']]
        self.assertEqual(2, types.count('migrate'))
        self.assertEqual(2, types.count('change_nova_service_state'))
        # Watcher's weight planner: service changes first, then migrations,
        # each waiting for the ones before
        for k, a in enumerate(doc['actions']):
            self.assertTrue(all(p < k for p in a['parents']))
        self.assertEqual(2, doc['efficacy_indicators'][
            'hosts_reaching_target_count'])
        hosts = {h['name']: h for h in doc['hosts']}
        self.assertEqual('disabled', hosts['compute-3']['state_after'])
        self.assertEqual(11, len(hosts['compute-1']['power_model'][
            'watts_at_load']))
        self.assertTrue(any(n.startswith('solver: improved')
                            for n in doc['notes']))
        # one hour of history: auto mode cannot backtest, plans reactively
        self.assertEqual(('auto', 'reactive'), (doc['forecast']['requested'],
                                                doc['forecast']['mode']))
        self.assertIn('forecast: mode reactive (auto requested): no '
                      'forecast: 0.0 days of instance_cpu_usage history; a '
                      'backtest over 2 day(s) needs at least 3', doc['notes'])

    def test_tradeoff_json_lists_the_best_plan_per_budget(self):
        code, out, err = heatwatcher('plan', self.write(
            helpers.small_snapshot()), '--format', 'json', '-q',
            '--tradeoff')
        self.assertEqual(0, code, err)
        doc = json.loads(out)
        with open(SCHEMA) as f:
            jsonschema.validate(doc, json.load(f))
        # the unlimited plan moves 2: budgets 0, 10 %, 25 %, 50 %, unlimited
        self.assertEqual([0, 0, 0, 1, None], [
            row['max_migrations'] for row in doc['tradeoff']])
        self.assertEqual([0, 0, 0, 1, 2], [
            row['instance_migrations_count'] for row in doc['tradeoff']])
        self.assertEqual([0, 0, 0, 1, 2], [
            row['hosts_reaching_target_count'] for row in doc['tradeoff']])
        self.assertEqual([0, 0, 0, 1, 2], [
            row['released_compute_nodes_count'] for row in doc['tradeoff']])
        self.assertEqual(doc['efficacy_indicators'][
            'harvested_heat_rate_after'], doc['tradeoff'][-1][
                'harvested_heat_rate_after'])
        self.assertEqual(2, doc['efficacy_indicators'][
            'instance_migrations_count'])

    def test_tradeoff_table_with_chosen_budgets_and_bad_ones(self):
        path = self.write(helpers.small_snapshot())
        code, out, err = heatwatcher('plan', path, '-q', '--tradeoff',
                                     '--budgets', '1,unlimited')
        self.assertEqual(0, code, err)
        table = out[out.index('Trade-off'):].splitlines()
        self.assertEqual(['1', '1', '1', '206', '1'], table[3].split())
        self.assertEqual(['unlimited', '2', '2', '412', '2'],
                         table[4].split())
        self.assertEqual(5, len(table))
        code, _, err = heatwatcher('plan', path, '--tradeoff', '--budgets',
                                   '5,lots')
        self.assertEqual(2, code)
        self.assertIn("--budgets: 'lots' is not a number of migrations", err)
        code, _, err = heatwatcher('plan', path, '--budgets', '5')
        self.assertEqual((2, '--budgets: needs --tradeoff'),
                         (code, err.strip().split('error: ')[-1]))

    def test_parameters_are_json_decoded_and_validated(self):
        path = self.write(helpers.small_snapshot())
        code, out, err = heatwatcher('plan', path, '--format', 'json', '-q',
                                     '-p', 'headroom=0.9',
                                     '-p', 'idle_host_action="none"')
        self.assertEqual(0, code, err)
        doc = json.loads(out)
        self.assertEqual([], doc['actions'])  # empty plan is a success
        self.assertEqual((0.9, 'none'), (doc['parameters']['headroom'],
                                         doc['parameters'][
                                             'idle_host_action']))
        code, _, err = heatwatcher('plan', path, '-p', 'headroom=5')
        self.assertEqual(2, code)
        self.assertIn('headroom: 5 is greater than the maximum of 0.9', err)
        code, _, err = heatwatcher('plan', path, '-p', 'loop_hosts=["x*"]')
        self.assertEqual(2, code)
        self.assertIn("loop_hosts: 'x*' matches no enabled compute node",
                      err)
        code, _, err = heatwatcher('plan', path, '--strategy', 'nope')
        self.assertEqual(2, code)
        self.assertIn("'nope' is not an installed strategy", err)

    def test_thermal_shedding_runs_offline(self):
        doc = helpers.small_snapshot()
        doc['metrics']['host_outlet_temp'] = {
            h['name']: {'start': helpers.START, 'step': 300,
                        'values': [42.0 if h['name'] == 'compute-1'
                                   else 25.0] * 12}
            for h in doc['hosts']}
        code, out, err = heatwatcher(
            'plan', self.write(doc), '--strategy', 'thermal_shedding',
            '--format', 'json', '-q', '-p',
            'thermal_zones={"hot": ["compute-1"], "cool": ["compute-[234]"]}')
        self.assertEqual(0, code, err)
        doc = json.loads(out)
        self.assertEqual('thermal_event_mitigation', doc['goal'])
        kinds = [a['action_type'] for a in doc['actions']]
        self.assertEqual(['migrate', 'change_nova_service_state',
                          'heatwatcher_node_power'], kinds)
        self.assertEqual(1, doc['efficacy_indicators'][
            'hosts_powered_down_count'])

    def test_table_output(self):
        code, out, err = heatwatcher('plan', self.write(
            helpers.small_snapshot()), '-q')
        self.assertEqual(0, code, err)
        for text in ('heat W before', 'Actions (4, in execution order)',
                     'hosts_reaching_target_ratio', '100.0 %',
                     'change_nova_service_state'):
            self.assertIn(text, out)


class TestBacktestCommand(unittest.TestCase):

    def test_backtest_on_the_sample(self):
        code, out, err = heatwatcher('backtest', command_main.SAMPLE,
                                     '--test-days', '3', '--format', 'json')
        self.assertEqual(0, code, err)
        doc = json.loads(out)
        self.assertEqual({'last_value', 'seasonal_naive', 'seasonal_profile',
                          'regression'}, set(doc['models']))
        self.assertIn(doc['chosen'], doc['models'])
        self.assertEqual(200, len(doc['instances']))
        self.assertIn('weekend', doc['models']['last_value']['by_category'])

    def test_backtest_needs_a_training_day(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 's.json')
            with open(path, 'w') as f:
                json.dump(helpers.small_snapshot(), f)
            code, _, err = heatwatcher('backtest', path, '--test-days', '1')
        self.assertEqual(2, code)
        self.assertIn('keep at least one for training', err)


class TestStdout(unittest.TestCase):

    def test_native_prints_during_the_run_go_to_stderr(self):
        script = (
            'import os, sys\n'
            'from heatwatcher.cmd import main\n'
            'with main._stdout_to_stderr():\n'
            '    os.write(1, b"native noise\\n")\n'
            'print("{}")\n')
        proc = subprocess.run([sys.executable, '-c', script],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual('{}', proc.stdout.strip())
        self.assertIn('native noise', proc.stderr)


class TestDemo(unittest.TestCase):

    def test_demo_is_deterministic_valid_and_plots(self):
        with tempfile.TemporaryDirectory() as d:
            runs = []
            for k in range(2):
                png = os.path.join(d, 'demo%d.png' % k)
                # A limit the solve never reaches: at the default 60 s a
                # loaded machine can stop it, and the plan then depends on
                # the CPU time it got.
                code, out, err = heatwatcher('demo', '--format', 'json', '-q',
                                             '-p', 'solver_time_limit=900',
                                             '--plot', png)
                self.assertEqual(0, code, err)
                self.assertGreater(os.path.getsize(png), 10000)
                doc = json.loads(out)
                doc.pop('solver')
                runs.append(doc)
        self.assertEqual(runs[0], runs[1])
        with open(SCHEMA) as f:
            jsonschema.validate(runs[0], json.load(f))
        ind = runs[0]['efficacy_indicators']
        self.assertEqual(12, ind['loop_hosts_count'])
        # two weeks of history with a daily shape: the forecast is trusted
        fc = runs[0]['forecast']
        self.assertEqual('proactive', fc['mode'])
        self.assertLess(fc['error'], fc['autostart_accuracy'])
        self.assertEqual('proactive', runs[0]['hosts'][0]['forecast']['mode'])
        self.assertGreater(ind['hosts_reaching_target_count'], 0)


class TestTradeoffChart(unittest.TestCase):

    def test_curve_is_written_and_bad_names_refused(self):
        from heatwatcher.cmd import plot
        rows = [dict(max_migrations=budget, instance_migrations_count=moves,
                     hosts_reaching_target_count=reached,
                     harvested_heat_rate_after=heat,
                     released_compute_nodes_count=0)
                for budget, moves, reached, heat in (
                    (0, 0, 0, 0.0), (10, 9, 3, 600.0),
                    (None, 40, 5, 1100.0))]
        plan = {'strategy': 'heat_consolidation', 'tradeoff': rows}
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, 'curve.svg')
            plot.write_tradeoff(plan, path)
            with open(path) as f:
                chart = f.read()
            self.assertIn('&lt;= 10', chart)
            self.assertIn('unlimited', chart)
            with self.assertRaisesRegex(plot.PlotError, r'\.png or \.svg'):
                plot.write_tradeoff(plan, os.path.join(directory, 'c.pdf'))


class TestHelp(unittest.TestCase):

    def test_every_command_prints_its_help(self):
        for command in ('plan', 'demo', 'backtest', 'snapshot', 'sandbox'):
            out = io.StringIO()
            with self.assertRaises(SystemExit) as ended, \
                    contextlib.redirect_stdout(out):
                command_main.parser().parse_args([command, '--help'])
            self.assertEqual(0, ended.exception.code, command)
            self.assertIn('usage: heatwatcher %s' % command, out.getvalue())
