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
from oslo_config import types

from heatwatcher.conf import opts
from heatwatcher.strategies import heat_consolidation


def generate_sample():
    """The sample ``oslo-config-generator`` writes (default wrap width)."""
    conf = cfg.ConfigOpts()
    generator.register_cli_opts(conf)
    conf(['--namespace', 'heatwatcher'])
    out = io.StringIO()
    generator.generate(conf, output_file=out)
    return out.getvalue()


def split_sections(sample):
    """``{group name: text of its section}`` of a generated sample."""
    sections = {}
    name = None
    for line in sample.splitlines():
        header = re.match(r'^\[(.+)\]$', line)
        if header:
            name = header.group(1)
            sections[name] = []
        elif name is not None:
            sections[name].append(line)
    return {name: '\n'.join(lines) for name, lines in sections.items()}


def option_block(section, dest):
    """The comment block that documents ``dest`` and ends with its line.

    The generator separates options with a blank line; each block is the
    wrapped help, the type and bounds, then ``#dest = default``.
    """
    for block in re.split(r'\n\s*\n', section):
        if re.search(r'(?m)^#%s =' % re.escape(dest), block):
            return block
    return None


def squeeze(text):
    """``text`` without comment markers or whitespace.

    The generator wraps help at 70 columns behind ``# ``, breaking lines at
    spaces and after hyphens, so only the sequence of other characters is
    comparable.
    """
    text = re.sub(r'(?m)^#', '', text)
    return re.sub(r'\s+', '', text)


def sample_default(opt):
    """How the sample writes ``opt``'s default, by its oslo.config type."""
    if opt.sample_default is not None:
        return str(opt.sample_default)
    if opt.default is None:
        return '<None>'
    if isinstance(opt.type, types.Boolean):
        return str(opt.default).lower()
    if isinstance(opt.type, types.List):
        return ','.join(str(item) for item in opt.default)
    if isinstance(opt.type, types.Dict):
        return ','.join('%s:%s' % item for item in sorted(opt.default.items()))
    return str(opt.default)


def registered_groups():
    """``[(group, options)]`` as Watcher and heatwatcher register them.

    Watcher registers each plugin's ``get_config_opts()`` under
    ``[watcher_<kind>.<plugin name>]`` when it loads the plugin;
    :mod:`heatwatcher.conf` registers ``[heatwatcher]``. The sample, built
    from :func:`heatwatcher.conf.opts.list_opts`, must document exactly
    these.
    """
    from heatwatcher.applier import guarded
    from heatwatcher.applier import node_power
    from heatwatcher.conf import heatwatcher
    from heatwatcher.planning import planner
    from heatwatcher.strategies import thermal_shedding
    return heatwatcher.list_opts() + [
        ('watcher_strategies.' + strategy.get_name(),
         strategy.get_config_opts())
        for strategy in (heat_consolidation.HeatConsolidation,
                         thermal_shedding.ThermalShedding)] + [
        ('watcher_planners.heat_sequenced',
         planner.HeatSequencedPlanner.get_config_opts()),
        ('watcher_actions.heatwatcher_node_power',
         node_power.NodePower.get_config_opts()),
        ('watcher_workflow_engines.heat_guarded',
         guarded.GuardedWorkFlowEngine.get_config_opts())]


class TestSampleConfig(unittest.TestCase):

    def test_every_option_is_documented_in_its_group(self):
        sections = split_sections(generate_sample())
        self.assertNotIn('No description provided', '\n'.join(
            sections.values()))
        groups = registered_groups()
        self.assertEqual(6, len(groups))
        for group, options in groups:
            self.assertIn(group, sections)
            self.assertGreater(len(options), 0, group)
            for opt in options:
                block = option_block(sections[group], opt.dest)
                self.assertIsNotNone(
                    block, '%s not in [%s]' % (opt.dest, group))
                self.assertIn(squeeze(opt.help), squeeze(block),
                              'help of %s in [%s]' % (opt.dest, group))
                line = '#%s = %s' % (opt.dest, sample_default(opt))
                self.assertIn(line.rstrip(),
                              [row.rstrip() for row in block.splitlines()],
                              'default of %s in [%s]' % (opt.dest, group))

    def test_sample_lists_the_registered_options_and_no_others(self):
        sections = split_sections(generate_sample())
        groups = registered_groups()
        self.assertEqual(sorted(group for group, _ in groups),
                         sorted(name for name in sections
                                if name != 'DEFAULT'))
        for group, options in groups:
            documented = re.findall(r'(?m)^#(\w+) =', sections[group])
            self.assertEqual(sorted(opt.dest for opt in options),
                             sorted(documented), group)

    def test_list_opts_groups(self):
        groups = dict(opts.list_opts())
        self.assertEqual(['heatwatcher',
                          'watcher_strategies.heat_consolidation',
                          'watcher_strategies.thermal_shedding',
                          'watcher_planners.heat_sequenced',
                          'watcher_actions.heatwatcher_node_power',
                          'watcher_workflow_engines.heat_guarded'],
                         list(groups))
        self.assertEqual(
            [o.dest for o in
             heat_consolidation.HeatConsolidation.get_config_opts()],
            [o.dest for o in groups['watcher_strategies.heat_consolidation']])
