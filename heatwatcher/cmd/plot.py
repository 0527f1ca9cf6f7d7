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
"""Chart of a plan: heat rate per host before and after, with targets.

Needs matplotlib (``pip install heatwatcher[plot]``).
"""

import os

from heatwatcher import exception


class PlotError(exception.HeatwatcherException):
    msg_fmt = 'cannot write the chart %(path)s: %(reason)s'


def _pyplot(path):
    extension = os.path.splitext(path)[1].lower()
    if extension not in ('.png', '.svg'):
        raise PlotError(path=path, reason='the file name must end in .png '
                                          'or .svg')
    try:
        import matplotlib
        matplotlib.use('Agg')
        from matplotlib import pyplot as plt
    except ImportError:
        raise PlotError(path=path, reason='matplotlib is not installed '
                                          '(pip install matplotlib)')
    return plt


def _save(plt, fig, path):
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise PlotError(path=path, reason=str(exc))
    finally:
        plt.close(fig)


def write_tradeoff(plan, path):
    """Chart ``plan['tradeoff']``, one point per budget.

    Loop hosts at target and harvested heat against migrations.
    """
    plt = _pyplot(path)
    rows = sorted(plan['tradeoff'],
                  key=lambda row: row['instance_migrations_count'])
    migrations = [row['instance_migrations_count'] for row in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.plot(migrations, [row['hosts_reaching_target_count'] for row in rows],
            marker='o', color='#d9480f', label='loop hosts at target')
    ax.set_xlabel('migrations')
    ax.set_ylabel('loop hosts at target')
    heat_axis = ax.twinx()
    heat_axis.plot(migrations, [row['harvested_heat_rate_after'] / 1000.0
                                for row in rows],
                   marker='s', linestyle='--', color='#4c6ef5',
                   label='harvested heat (kW)')
    heat_axis.set_ylabel('harvested heat rate (kW)')
    for row in rows:
        ax.annotate('unlimited' if row['max_migrations'] is None
                    else '<= %d' % row['max_migrations'],
                    (row['instance_migrations_count'],
                     row['hosts_reaching_target_count']),
                    textcoords='offset points', xytext=(4, -12),
                    fontsize=7)
    ax.set_title('%s: best plan for each migration budget'
                 % plan['strategy'])
    lines = ax.get_lines() + heat_axis.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=8,
              loc='lower right')
    _save(plt, fig, path)


def write(plan, path):
    """Write the chart of ``plan`` to ``path`` (.png or .svg)."""
    plt = _pyplot(path)
    hosts = sorted(plan['hosts'],
                   key=lambda host: (not host['loop'], host['name']))
    n_hosts = len(hosts)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.42 * n_hosts + 2), 5.2))
    positions = range(n_hosts)
    colours = ['#d9480f' if host['loop'] else '#4c6ef5' for host in hosts]
    ax.bar([x - 0.2 for x in positions],
           [host['heat_rate_before'] for host in hosts],
           width=0.4, color=colours, alpha=0.35, label='before')
    ax.bar([x + 0.2 for x in positions],
           [host['heat_rate_after'] for host in hosts],
           width=0.4, color=colours, label='after')
    for x, host in zip(positions, hosts):
        if host['loop']:
            ax.hlines(host['target_heat_rate'], x - 0.45, x + 0.45,
                      colors='black', linewidth=1.6)
        if host['instances_after'] == 0:
            ax.text(x + 0.2, max(host['heat_rate_after'], 4),
                    host['state_after'], rotation=90, ha='center',
                    va='bottom', fontsize=7)
    ax.set_xticks(list(positions))
    ax.set_xticklabels([host['name'] for host in hosts], rotation=90,
                       fontsize=7)
    ax.set_ylabel('heat rate (W)')
    indicators = plan['efficacy_indicators']
    ax.set_title('%s: loop hosts at target %s -> %s of %s, %s migrations'
                 % (plan['strategy'],
                    _reached_before(hosts), indicators.get(
                        'hosts_reaching_target_count', '?'),
                    indicators.get('loop_hosts_count', '?'),
                    indicators.get('instance_migrations_count', '?')))
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ax.legend(handles=[
        Patch(color='#d9480f', alpha=0.35, label='loop host, before'),
        Patch(color='#d9480f', label='loop host, after'),
        Patch(color='#4c6ef5', alpha=0.35, label='other host, before'),
        Patch(color='#4c6ef5', label='other host, after'),
        Line2D([], [], color='black', label='target heat rate')],
        fontsize=8, loc='upper right')
    _save(plt, fig, path)


def _reached_before(hosts):
    return sum(1 for host in hosts
               if host['loop'] and host['instances_before']
               and host['heat_rate_before'] >= host['target_heat_rate'])
