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
"""Human-readable rendering of a plan document."""

import sys
import time


def _table(headers, rows):
    widths = [max(len(str(cell)) for cell in column)
              for column in zip(headers, *rows)]
    row_format = '  '.join('%%-%ds' % width for width in widths)
    lines = [row_format % tuple(headers),
             row_format % tuple('-' * width for width in widths)]
    lines += [row_format % tuple(map(str, row)) for row in rows]
    return '\n'.join(line.rstrip() for line in lines)


def _watts(value):
    return '-' if value is None else '%.0f' % value


def render(doc):
    """The plan as text: hosts, actions, indicators, notes."""
    parts = ['Goal %s, strategy %s' % (doc['goal'], doc['strategy']), '']
    rows = []
    for host in doc['hosts']:
        reached_before = (host['loop'] and host['heat_rate_before']
                          >= host['target_heat_rate']
                          and host['instances_before'] > 0)
        reached_after = (host['loop'] and host['heat_rate_after']
                         >= host['target_heat_rate']
                         and host['instances_after'] > 0)
        rows.append([
            host['name'], 'loop' if host['loop'] else '',
            _watts(host['target_heat_rate']),
            '%s%s' % (_watts(host['heat_rate_before']),
                      ' *' if reached_before else ''),
            '%s%s' % (_watts(host['heat_rate_after']),
                      ' *' if reached_after else ''),
            '%g -> %g' % (host['vcpus_used_before'],
                          host['vcpus_used_after']),
            '%.0f -> %.0f' % (host['memory_mb_used_before'] / 1024,
                              host['memory_mb_used_after'] / 1024),
            host['state_after'], host['power_model']['source']])
    if rows:
        parts += [_table(['host', 'loop', 'target W', 'heat W before',
                          'heat W after', 'vCPU used', 'RAM GiB used',
                          'after', 'power model'], rows),
                  '(* at or above target)', '']
    parts += _forecast(doc)
    actions = doc['actions']
    parts.append('Actions (%d, in execution order):' % len(actions))
    for position, action in enumerate(actions):
        params = dict(action['input_parameters'])
        target = (params.pop('resource_name', None)
                  or params.get('resource_id'))
        params.pop('resource_id', None)
        if action['action_type'] == 'migrate':
            description = '%s %s -> %s (%s)' % (
                target, params['source_node'], params['destination_node'],
                params['migration_type'])
        else:
            description = '%s %s' % (target, ', '.join(
                '%s=%s' % kv for kv in sorted(params.items())))
        after = (' after %s' % ','.join(map(str, action['parents']))
                 if action['parents'] else '')
        parts.append('  %3d  %-26s %s%s' % (position, action['action_type'],
                                            description, after))
    parts += ['', 'Efficacy indicators:']
    for name, value in doc['efficacy_indicators'].items():
        parts.append('  %-30s %s' % (name, value))
    for name, value in doc['global_efficacy'].items():
        parts.append('  %-30s %.1f %%' % (name, value))
    if doc['notes']:
        parts += ['', 'Notes:'] + ['  - %s' % note for note in doc['notes']]
    return '\n'.join(parts)


def render_tradeoff(rows):
    """The ``--tradeoff`` rows as a table, in budget order."""
    table = [['unlimited' if row['max_migrations'] is None
              else row['max_migrations'], row['instance_migrations_count'],
              row['hosts_reaching_target_count'],
              '%.0f' % row['harvested_heat_rate_after'],
              row['released_compute_nodes_count']] for row in rows]
    return 'Trade-off (best plan for each migration budget):\n' + _table(
        ['max migrations', 'migrations', 'hosts at target',
         'harvested heat W', 'released hosts'], table)


def _pct(value):
    return '-' if value is None else '%.1f' % value


def _forecast(doc):
    forecast = doc.get('forecast')
    if not forecast:
        return []
    lines = ['Mode %s (%s requested): %s' % (
        forecast['mode'], forecast['requested'], forecast['reason'])]
    rows = [[host['name'], host_forecast['mode'],
             _pct(host_forecast['measured_load']),
             _pct(host_forecast['forecast_load']),
             _pct(host_forecast['planned_load']),
             _pct(host_forecast['backtest_mae'])]
            for host in doc['hosts']
            for host_forecast in [host.get('forecast')] if host_forecast]
    if rows and forecast['mode'] == 'proactive':
        lines += [_table(['host', 'mode', 'load % measured', 'forecast',
                          'planned', 'backtest MAE %'], rows)]
    return lines + ['']


class Progress:
    """Step messages on stderr, only on a terminal and unless quiet."""

    def __init__(self, quiet=False, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.started = time.monotonic()

    def step(self, message):
        if self.enabled:
            self.stream.write('[%6.1f s] %s\n'
                              % (time.monotonic() - self.started, message))
            self.stream.flush()
