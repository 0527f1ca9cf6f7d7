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
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = '  '.join('%%-%ds' % w for w in widths)
    out = [line % tuple(headers), line % tuple('-' * w for w in widths)]
    out += [line % tuple(map(str, r)) for r in rows]
    return '\n'.join(o.rstrip() for o in out)


def _w(value):
    return '-' if value is None else '%.0f' % value


def render(doc):
    """The plan as text: hosts, actions, indicators, notes."""
    parts = ['Goal %s, strategy %s' % (doc['goal'], doc['strategy']), '']
    rows = []
    for h in doc['hosts']:
        reach_b = (h['loop'] and h['heat_rate_before']
                   >= h['target_heat_rate'] and h['instances_before'] > 0)
        reach_a = (h['loop'] and h['heat_rate_after']
                   >= h['target_heat_rate'] and h['instances_after'] > 0)
        rows.append([
            h['name'], 'loop' if h['loop'] else '', _w(h['target_heat_rate']),
            '%s%s' % (_w(h['heat_rate_before']), ' *' if reach_b else ''),
            '%s%s' % (_w(h['heat_rate_after']), ' *' if reach_a else ''),
            '%g -> %g' % (h['vcpus_used_before'], h['vcpus_used_after']),
            '%.0f -> %.0f' % (h['memory_mb_used_before'] / 1024,
                              h['memory_mb_used_after'] / 1024),
            h['state_after'], h['power_model']['source']])
    if rows:
        parts += [_table(['host', 'loop', 'target W', 'heat W before',
                          'heat W after', 'vCPU used', 'RAM GiB used',
                          'after', 'power model'], rows),
                  '(* at or above target)', '']
    parts += _forecast(doc)
    acts = doc['actions']
    parts.append('Actions (%d, in execution order):' % len(acts))
    for k, a in enumerate(acts):
        p = dict(a['input_parameters'])
        target = p.pop('resource_name', None) or p.get('resource_id')
        p.pop('resource_id', None)
        if a['action_type'] == 'migrate':
            desc = '%s %s -> %s (%s)' % (
                target, p['source_node'], p['destination_node'],
                p['migration_type'])
        else:
            desc = '%s %s' % (target, ', '.join(
                '%s=%s' % kv for kv in sorted(p.items())))
        after = (' after %s' % ','.join(map(str, a['parents']))
                 if a['parents'] else '')
        parts.append('  %3d  %-26s %s%s' % (k, a['action_type'], desc,
                                            after))
    parts += ['', 'Efficacy indicators:']
    for name, value in doc['efficacy_indicators'].items():
        parts.append('  %-30s %s' % (name, value))
    for name, value in doc['global_efficacy'].items():
        parts.append('  %-30s %.1f %%' % (name, value))
    if doc['notes']:
        parts += ['', 'Notes:'] + ['  - %s' % n for n in doc['notes']]
    return '\n'.join(parts)


def _pct(value):
    return '-' if value is None else '%.1f' % value


def _forecast(doc):
    fc = doc.get('forecast')
    if not fc:
        return []
    out = ['Mode %s (%s requested): %s' % (fc['mode'], fc['requested'],
                                           fc['reason'])]
    rows = [[h['name'], f['mode'], _pct(f['measured_load']),
             _pct(f['forecast_load']), _pct(f['planned_load']),
             _pct(f['backtest_mae'])]
            for h in doc['hosts'] for f in [h.get('forecast')] if f]
    if rows and fc['mode'] == 'proactive':
        out += [_table(['host', 'mode', 'load % measured', 'forecast',
                        'planned', 'backtest MAE %'], rows)]
    return out + ['']


class Progress:
    """Step messages on stderr, only on a terminal and unless quiet."""

    def __init__(self, quiet=False, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.t0 = time.monotonic()

    def step(self, message):
        if self.enabled:
            self.stream.write('[%6.1f s] %s\n' % (time.monotonic() - self.t0,
                                                  message))
            self.stream.flush()
