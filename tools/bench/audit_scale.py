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
"""Time a whole heat_consolidation audit at scale, phase by phase.

A generated cloud (:func:`tests.synthetic.generate`, about 10 instances per
host) with 14 days of 5-minute CPU history per instance
(:func:`tests.synthetic.cpu_history`, in memory) runs through Watcher's
strategy class with the default settings and only ``target_heat_rate``
given (plus ``solver_time_limit`` when asked). Each size runs in a fresh
process so that its peak resident memory is its own.

Phases (wall seconds):

* ``telemetry``: step 1, the snapshot and measured load;
* ``history_read``: the forecast's read of the instance CPU history
  (``collect.instance_series``), part of ``forecast``;
* ``history_matrix``: the slot matrix (``history.matrix``), part of
  ``forecast``;
* ``forecast``: step 2 as a whole (read, matrix, fit, backtest, mode);
* ``heat``: loop hosts, power models and the problem build;
* ``solve``: the solver and damping (reported apart: another change
  makes it stop early);
* ``plan``: actions, their sequencing and the report.

Usage: ``python tools/bench/audit_scale.py [--sizes 200 1000]
[--solver-time-limit S] [--target-hysteresis H] [--host-history]
[--profile [--profile-max HOSTS]]
[--append]
[--out DIR]``. Results go to ``doc/source/benchmarks/audit_scale.{json,md}``
(``--append`` keeps the rows of other sizes already there).
"""

import argparse
import cProfile
import functools
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

import results  # tools/bench, the script's directory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

STEPS = {
    # step function of consolidation_audit: phase it belongs to
    'read_telemetry': 'telemetry', 'plan_loads': 'forecast',
    'choose_loop_hosts': 'heat', 'estimate_heat': 'heat',
    'build_problem': 'heat', 'optimise': 'solve', 'plan_actions': 'plan',
    'check_sequence': 'plan', 'report': 'plan'}
TARGET_HEAT_RATE = 250.0


def _quiet():
    warnings.filterwarnings('ignore')
    import logging
    logging.disable(logging.WARNING)


def _conf():
    from watcher import conf
    conf.CONF([], project='watcher', default_config_files=[])


def _timed(function, phase, times):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            times[phase] = times.get(phase, 0.0) + (
                time.perf_counter() - began)
    return wrapper


def _instrument(times):
    """Wrap the audit steps and the forecast's reads with timers."""
    from heatwatcher.strategies import consolidation_audit
    from heatwatcher.strategies import forecasting
    for name, phase in STEPS.items():
        setattr(consolidation_audit, name, _timed(
            getattr(consolidation_audit, name), phase, times))
    forecasting.collect.instance_series = _timed(
        forecasting.collect.instance_series, 'history_read', times)
    forecasting.history.matrix = _timed(
        forecasting.history.matrix, 'history_matrix', times)


def _top(profile, count=15):
    """The ``count`` entries with most internal time, as text rows."""
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in sorted(
            stats.stats.items(), key=lambda item: -item[1][2])[:count]:
        short = filename.split('site-packages/')[-1].replace(ROOT + '/', '')
        rows.append({'function': '%s:%d(%s)' % (short, line, name),
                     'calls': calls, 'tottime': round(tottime, 2),
                     'cumtime': round(cumtime, 2)})
    return rows


class DictsOnly:
    """The in-memory datasource seen only through Watcher's interface.

    ``statistic_series`` answers ``{ISO text: value}`` dicts, as Watcher's
    datasources do, so the audit reads them per resource and parses them
    (instead of taking the in-memory arrays directly).
    """

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)


def series_read(via_dicts, host_history):
    """The rows' ``series_read``: how the history reaches the audit."""
    read = 'dicts' if via_dicts else 'arrays'
    return read + ' + host history' if host_history else read


def one_size(hosts, seed, solver_time_limit, profile, via_dicts=False,
             host_history=False, target_hysteresis=None):
    """Run one audit of ``hosts`` hosts; returns its row."""
    _quiet()
    _conf()
    from watcher.common import utils

    from heatwatcher.strategies import heat_consolidation
    from heatwatcher.strategies import heat_consolidation_settings
    from tests import synthetic

    began = time.perf_counter()
    cluster = synthetic.generate(hosts, seed=seed)
    model = synthetic.to_model(cluster)
    datasource = synthetic.cpu_history(cluster, seed=seed,
                                       hosts=host_history)
    generate_seconds = time.perf_counter() - began
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = {}
    _instrument(times)
    config = {option.dest: option.default
              for option in heat_consolidation_settings.config_opts()}
    config['datasources'] = None
    parameters = {'target_heat_rate': TARGET_HEAT_RATE}
    if solver_time_limit:
        parameters['solver_time_limit'] = solver_time_limit
    if target_hysteresis is not None:
        parameters['target_hysteresis'] = target_hysteresis
    strategy = heat_consolidation.HeatConsolidation(
        config=utils.Struct(config))
    strategy._compute_model = model
    strategy._datasource_backend = (DictsOnly(datasource) if via_dicts
                                    else datasource)
    strategy.input_parameters = utils.Struct(parameters)
    profiler = cProfile.Profile() if profile else None
    began = time.perf_counter()
    if profiler:
        profiler.enable()
    solution = strategy.execute()
    if profiler:
        profiler.disable()
    total = time.perf_counter() - began
    indicators = {indicator.name: indicator.value
                  for indicator in solution.efficacy_indicators}
    solver = strategy.report.get('solver', {})
    samples = sum(len(series.values) for series in
                  datasource.series['instance_cpu_usage'].values())
    row = {
        'hosts': hosts, 'instances': len(cluster.instances),
        'history_samples': samples,
        'solver_time_limit': solver_time_limit,
        'target_hysteresis': target_hysteresis,
        'profiled': bool(profile),
        'series_read': series_read(via_dicts, host_history),
        'audit_seconds': round(total, 2),
        'phases': {phase: round(seconds, 2)
                   for phase, seconds in sorted(times.items())},
        'reaching_target': indicators.get('hosts_reaching_target_count'),
        'upper_bound': solver.get('upper_bound'),
        'migrations': indicators.get('instance_migrations_count'),
        'forecast_mode': strategy.report.get('forecast', {}).get('mode'),
        'solver': {key: (round(solver[key], 2)
                         if isinstance(solver.get(key), float)
                         else solver.get(key))
                   for key in ('seconds', 'method', 'reached',
                               'greedy_seconds',
                               'bound_seconds', 'bound_method', 'cells',
                               'migrations_before_trim', 'trim_seconds',
                               'greedy_stopped')},
        'generate_seconds': round(generate_seconds, 2),
        'peak_rss_mib_before_audit': round(rss_before / 1024.0, 1),
        'peak_rss_mib': round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }
    if profiler:
        row['top'] = _top(profiler)
    return row


def _series(row):
    """The row's series column: how the history was read, and its label."""
    series = row.get('series_read', 'arrays')
    return '%s, %s' % (series, row['label']) if row.get('label') else series


def _against_bound(row):
    """``reached / bound (-x.x %)`` of the solver's placement, or a dash."""
    reached = row['solver'].get('reached')
    if reached is None or not row.get('upper_bound'):
        return '-'
    return '%d / %d (%+.1f %%)' % (
        reached, row['upper_bound'],
        100.0 * (reached - row['upper_bound']) / row['upper_bound'])


def markdown(result):
    lines = [
        '# Audit time at scale', '',
        'Generated by `tools/bench/audit_scale.py` on %s, Python %s, numpy '
        '%s, %d CPUs. A generated cloud with 14 days of 5-minute CPU '
        'history per instance in memory, through Watcher\'s strategy class, '
        'default settings and `target_heat_rate` %g (plus '
        '`solver_time_limit` where given, and `target_hysteresis` where '
        'the series column says so). Wall seconds per phase; '
        '"read" and "matrix" are parts of "forecast". "series": the history '
        'handed over as arrays by the in-memory datasource, read through '
        'Watcher\'s `statistic_series` dicts and parsed ("dicts"), or the '
        'code before the array change (per-point parsing and gridding, '
        '"before"); "+ host history": the hosts also have 14 days of '
        '5-minute power and CPU series, so that "heat" includes fitting '
        'their power curves (without, the audit uses its default power '
        'model). Peak RSS is the '
        'process\'s, generation included. The machine is shared: timings '
        'vary by tens of percent between runs.' % (
            result['machine'], result['python'], result['numpy'],
            result['cpus'], TARGET_HEAT_RATE), '',
        '| hosts | inst. | series | time limit | audit s | telemetry | '
        'forecast | read | matrix | heat | solve | plan | reaching / bound | '
        'migr. | peak RSS MiB |',
        '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
        '---:|---:|']
    for row in result['rows']:
        phases = row['phases']
        lines.append(
            '| %d | %d | %s | %s | %.1f%s | %.1f | %.1f | %.1f | %.1f | '
            '%.1f | %.1f | %.1f | %s / %s | %s | %.0f |' % (
                row['hosts'], row['instances'], _series(row),
                row['solver_time_limit'] or 'default', row['audit_seconds'],
                ' (profiled)' if row['profiled'] else '',
                phases.get('telemetry', 0), phases.get('forecast', 0),
                phases.get('history_read', 0),
                phases.get('history_matrix', 0), phases.get('heat', 0),
                phases.get('solve', 0), phases.get('plan', 0),
                row['reaching_target'], row['upper_bound'],
                row['migrations'], row['peak_rss_mib']))
    if result.get('note'):
        lines += ['', result['note']]
    solved = [row for row in result['rows'] if row.get('solver')]
    if solved:
        lines += [
            '', 'Inside "solve" (rows that recorded it): the solver\'s own '
            'seconds, its greedy start, the bound (LP, or the closed-form '
            '"load_sum" when the LP is too large or stops), the cells of '
            'the search, and the migration trimming (migrations before '
            'it / after). "solver / bound": the loop hosts at target in '
            'the solver\'s placement, on the problem it solved (planned '
            'loads, hosts held by the target hysteresis counted at target, '
            'as the bound counts them), against the bound, and how far '
            'below the bound (rows that recorded it; "reaching" in the '
            'table above is the audit\'s indicator, on the real targets).',
            '',
            '| hosts | series | audit s | solver s | greedy s (stopped) | '
            'bound s (method) | solver / bound | cells | trim s | '
            'migr. before / after trim |',
            '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|']
        for row in solved:
            solver = row['solver']
            lines.append('| %d | %s | %.1f%s | %.1f | %.1f%s | %.1f (%s) | '
                         '%s | %s | %.1f | %s / %s |' % (
                             row['hosts'], _series(row),
                             row['audit_seconds'],
                             ' (profiled)' if row['profiled'] else '',
                             solver['seconds'], solver['greedy_seconds'],
                             ' (%s)' % solver['greedy_stopped']
                             if solver.get('greedy_stopped') else '',
                             solver['bound_seconds'],
                             solver['bound_method'], _against_bound(row),
                             solver['cells'],
                             solver['trim_seconds'] or 0.0,
                             solver['migrations_before_trim'],
                             row['migrations']))
    for row in result['rows']:
        if row.get('top'):
            lines += ['', 'cProfile, %d hosts (%s), by internal time:'
                      % (row['hosts'], _series(row)),
                      '',
                      '| function | calls | tottime s | cumtime s |',
                      '|---|---:|---:|---:|']
            lines += ['| `%s` | %d | %.2f | %.2f |' % (
                entry['function'], entry['calls'], entry['tottime'],
                entry['cumtime']) for entry in row['top']]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[200])
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--solver-time-limit', type=float, default=None,
                        help='solver_time_limit (s); default: the '
                             'strategy\'s default')
    parser.add_argument('--target-hysteresis', type=float, default=None,
                        help='target_hysteresis; default: the strategy\'s '
                             'default (0 judges the solver on the real '
                             'targets)')
    parser.add_argument('--profile', action='store_true',
                        help='also run each size under cProfile')
    parser.add_argument('--profile-max', type=int, default=None,
                        help='profile only the sizes up to this many hosts')
    parser.add_argument('--append', action='store_true',
                        help='keep the rows already in --out (other sizes)')
    parser.add_argument('--via-dicts', action='store_true',
                        help='read the series through Watcher\'s '
                             'statistic_series dicts')
    parser.add_argument('--host-history', action='store_true',
                        help='give the hosts power and CPU history too, '
                             'so that the audit fits power curves')
    parser.add_argument('--before', metavar='JSON[,JSON]',
                        help='audit_scale.json files measured on the code '
                             'before a change: their rows are kept, marked '
                             '"before"')
    parser.add_argument('--render-only', action='store_true',
                        help='run nothing: rewrite the Markdown from the '
                             'rows in --out (and --before)')
    parser.add_argument('--note', help='a paragraph added under the table '
                                       '(kept by --append)')
    parser.add_argument('--label', help='a word added to the new rows\' '
                                        'series column (which code ran)')
    parser.add_argument('--one', type=int, help=argparse.SUPPRESS)
    results.add_out_argument(parser)
    args = parser.parse_args(argv)
    if args.one:
        row = one_size(args.one, args.seed, args.solver_time_limit,
                       args.profile, args.via_dicts, args.host_history,
                       args.target_hysteresis)
        print(json.dumps(row))
        return 0
    rows, note = [], args.note
    previous = os.path.join(args.out, 'audit_scale.json')
    if args.append and os.path.exists(previous):
        with open(previous) as f:
            kept = json.load(f)
        note = note or kept.get('note')
        rows = [row for row in kept['rows']
                if (row['hosts'], row.get('series_read', 'arrays'))
                not in {(hosts, series_read(args.via_dicts,
                                            args.host_history))
                        for hosts in args.sizes}]
    if args.render_only:
        args.append, args.sizes = True, []
        with open(previous) as f:
            kept = json.load(f)
        rows, note = kept['rows'], note or kept.get('note')
    for hosts in args.sizes:
        profiled = args.profile and (args.profile_max is None
                                     or hosts <= args.profile_max)
        for profile in ([False, True] if profiled else [False]):
            command = [sys.executable, os.path.abspath(__file__),
                       '--one', str(hosts), '--seed', str(args.seed)]
            if args.solver_time_limit:
                command += ['--solver-time-limit',
                            str(args.solver_time_limit)]
            if args.target_hysteresis is not None:
                command += ['--target-hysteresis',
                            str(args.target_hysteresis)]
            if profile:
                command.append('--profile')
            if args.via_dicts:
                command.append('--via-dicts')
            if args.host_history:
                command.append('--host-history')
            output = subprocess.run(command, check=True, capture_output=True,
                                    text=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            if args.label:
                row['label'] = args.label
            rows.append(row)
            print(json.dumps({key: value for key, value in row.items()
                              if key != 'top'}), flush=True)
    if args.before:
        before = []
        for path in args.before.split(','):
            with open(path) as f:
                before += json.load(f)['rows']
        rows = [row for row in rows if row.get('series_read') != 'before']
        rows += [dict(row, series_read='before') for row in before]
    rows.sort(key=lambda row: (row['hosts'], row.get('series_read', ''),
                               row.get('label') or '', row['profiled']))
    result = {'machine': platform.machine(),
              'python': platform.python_version(),
              'numpy': np.__version__, 'cpus': os.cpu_count(),
              'seed': args.seed, 'note': note, 'rows': rows}
    results.write(args.out, 'audit_scale', result, markdown(result))
    print(markdown(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
