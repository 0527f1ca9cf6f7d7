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
"""``.. strategy-parameters:: module.path:Class`` renders a strategy's
audit parameters (from its JSON schema) and its options as a table."""

import importlib

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import ViewList
from sphinx.util.nodes import nested_parse_with_titles


class StrategyParameters(Directive):
    required_arguments = 1

    def run(self):
        module, cls = self.arguments[0].split(':')
        strategy = getattr(importlib.import_module(module), cls)
        opts = {o.dest: o for o in strategy.get_config_opts()}
        lines = ['.. list-table::', '   :header-rows: 1',
                 '   :widths: 20 12 14 54', '',
                 '   * - parameter / option', '     - type',
                 '     - default', '     - description']
        for name, prop in strategy.get_schema()['properties'].items():
            kind = [t for t in prop['type'] if t != 'null'][0]
            default = opts[name].default if name in opts else prop['default']
            desc = opts[name].help if name in opts else prop['description']
            lines += ['   * - ``%s``' % name, '     - %s' % kind,
                      '     - ``%r``' % (default,),
                      '     - %s' % desc.replace('\n', ' ')]
        view = ViewList(lines, 'strategy-parameters')
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, view, node)
        return node.children


def setup(app):
    app.add_directive('strategy-parameters', StrategyParameters)
    return {'parallel_read_safe': True}
