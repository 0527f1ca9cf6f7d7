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

import io
import re
import unittest

from oslo_config import cfg
from oslo_config import generator

from heatwatcher.conf import opts
from heatwatcher.strategies import heat_consolidation


class TestSampleConfig(unittest.TestCase):

    def test_every_strategy_option_is_in_the_generated_sample(self):
        conf = cfg.ConfigOpts()
        generator.register_cli_opts(conf)
        conf(['--namespace', 'heatwatcher'])
        out = io.StringIO()
        generator.generate(conf, output_file=out)
        sample = out.getvalue()
        self.assertIn('[watcher_strategies.heat_consolidation]', sample)
        self.assertNotIn('No description provided', sample)
        self.assertIn('[watcher_planners.heat_sequenced]', sample)
        self.assertIn('[heatwatcher]', sample)
        for group, options in opts.list_opts():
            for opt in options:
                self.assertRegex(sample, r'(?m)^#%s =' % re.escape(opt.dest))
                self.assertIn(opt.help.split()[0], sample)

    def test_list_opts_groups(self):
        groups = dict(opts.list_opts())
        self.assertEqual(['heatwatcher',
                          'watcher_strategies.heat_consolidation',
                          'watcher_strategies.thermal_shedding',
                          'watcher_planners.heat_sequenced',
                          'watcher_workflow_engines.heat_guarded'],
                         list(groups))
        self.assertEqual(
            [o.dest for o in
             heat_consolidation.HeatConsolidation.get_config_opts()],
            [o.dest for o in groups['watcher_strategies.heat_consolidation']])
