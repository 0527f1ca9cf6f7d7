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
"""The ``heatwatcher`` command: plan offline, capture snapshots, demo.

Exit status: 0 on success (an empty plan is a success), 2 for bad input
(with a one-line reason on stderr), 1 for anything else.
"""

import argparse
import contextlib
import json
import logging
import os
import sys
import warnings

from heatwatcher import exception
from heatwatcher import version

DEFAULT_BUDGETS = '0,10%,25%,50%,unlimited'
SAMPLE = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                      'samples', 'demo-snapshot.json.gz')


def parser():
    command_line = argparse.ArgumentParser(
        prog='heatwatcher',
        description='Run heatwatcher strategies offline on a snapshot.')
    command_line.add_argument(
        '--version', action='version',
        version='heatwatcher %s' % version.version_string())
    commands = command_line.add_subparsers(dest='command')

    def planning_options(command):
        add = command.add_argument
        add('--strategy', default='heat_consolidation',
            help='strategy to run (default: %(default)s)')
        add('-p', '--parameter', action='append', default=[],
            metavar='KEY=VALUE',
            help='audit parameter; VALUE is JSON-decoded when possible, '
                 'else a string (repeatable)')
        add('--config-file', metavar='watcher.conf',
            help='Watcher configuration with the strategy options')
        add('--format', choices=('table', 'json'), default='table')
        add('-q', '--quiet', action='store_true',
            help='no progress messages')
        add('-v', '--verbose', action='store_true',
            help='show the strategy log on stderr')
        add('--tradeoff', action='store_true',
            help='also plan for several migration budgets and print the '
                 'trade-off (heat_consolidation); with --plot, chart the '
                 'trade-off curve')
        add('--budgets', metavar='LIST',
            help='budgets of --tradeoff: migration counts, percentages of '
                 'the unlimited plan\'s migrations or "unlimited", '
                 'comma-separated (default: %s)'
                 % DEFAULT_BUDGETS.replace('%', '%%'))

    plan = commands.add_parser('plan', help='plan on a snapshot file')
    plan.add_argument('snapshot',
                      help='snapshot file (.json, .json.gz, .yaml)')
    planning_options(plan)
    plan.add_argument('--plot', metavar='FILE.png|FILE.svg',
                      help='write a heat-rate chart of the plan')
    demo = commands.add_parser(
        'demo', help='plan on the bundled sample and write its chart')
    planning_options(demo)
    demo.add_argument('--plot', metavar='FILE', default='heatwatcher-demo.png',
                      help='chart file (default: %(default)s)')
    backtest = commands.add_parser(
        'backtest', help='score the load forecasting models on a snapshot')
    backtest.add_argument('snapshot')
    backtest.add_argument('--horizon', default='1h',
                          help='forecast horizon, e.g. 1h, 40m (default 1h)')
    backtest.add_argument('--test-days', type=int, default=2,
                          help='last days kept for testing (default 2)')
    backtest.add_argument('--slot-minutes', type=int, default=20)
    backtest.add_argument('--format', choices=('table', 'json'),
                          default='table')
    backtest.add_argument('-q', '--quiet', action='store_true')
    backtest.add_argument('-v', '--verbose', action='store_true')
    capture = commands.add_parser(
        'snapshot',
        help='capture a snapshot of a live cloud (OS_* or clouds.yaml auth)')
    capture.add_argument('-o', '--output', required=True,
                         help='file to write (.json or .json.gz)')
    capture.add_argument('--window', default='14d',
                         help='metric history to capture, e.g. 14d, 12h '
                              '(default: %(default)s)')
    capture.add_argument('--config-file', metavar='watcher.conf',
                         help='Watcher configuration of the datasources')
    capture.add_argument('--os-cloud', default=os.environ.get('OS_CLOUD'),
                         help='cloud name in clouds.yaml')
    capture.add_argument('-q', '--quiet', action='store_true')
    capture.add_argument('-v', '--verbose', action='store_true')
    # heatwatcher sandbox: a real Watcher deployment (heatwatcher.sandbox)
    from heatwatcher.sandbox import cli as sandbox_cli
    sandbox_cli.add_parser(commands)
    return command_line


def _logging(verbose):
    # Libraries imported later reset warning filters; silence the printing
    # itself so users see only heatwatcher's output (unless --verbose).
    warnings.filterwarnings('ignore')
    if not verbose:
        warnings.showwarning = lambda *args, **kwargs: None
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format='%(levelname)s %(name)s: %(message)s')
    if not verbose:
        logging.disable(logging.WARNING)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send file descriptor 1 to stderr while the strategy runs.

    The MILP solver (HiGHS, C++) sometimes prints diagnostics straight to
    the process's stdout, bypassing Python; they must not mix with the plan
    printed there (``--format json`` must stay parseable).
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _plan(args, path):
    from heatwatcher.cmd import output
    from heatwatcher.snapshot import load
    from heatwatcher.snapshot import run

    progress = output.Progress(args.quiet)
    progress.step('loading %s' % path)
    doc = load.load(path)
    run.configure(args.config_file)
    params = run.parse_parameters(args.parameter)
    budgets = None
    if args.tradeoff or args.budgets:
        if not args.tradeoff:
            raise run.PlanInputError(field='--budgets',
                                     reason='needs --tradeoff')
        budgets = run.parse_budgets(args.budgets or DEFAULT_BUDGETS)
    progress.step('running %s on %d hosts, %d instances'
                  % (args.strategy, len(doc['hosts']),
                     len(doc['instances'])))
    with _stdout_to_stderr():
        if budgets is None:
            plan = run.run(doc, args.strategy, params)
        else:
            plan, plan['tradeoff'] = run.tradeoff(
                doc, args.strategy, params, budgets, progress.step)
    progress.step('planned %d actions' % len(plan['actions']))
    if args.plot:
        from heatwatcher.cmd import plot
        if budgets is None:
            plot.write(plan, args.plot)
        else:
            plot.write_tradeoff(plan, args.plot)
        progress.step('chart written to %s' % args.plot)
    if args.format == 'json':
        print(json.dumps(plan, indent=1, sort_keys=False))
    else:
        print(output.render(plan))
        if budgets is not None:
            print('\n' + output.render_tradeoff(plan['tradeoff']))
        if args.plot:
            print('\nChart: %s' % args.plot)
    return 0


def _snapshot(args):
    from heatwatcher.cmd import output
    from heatwatcher.snapshot import capture
    from heatwatcher.snapshot import load
    from heatwatcher.snapshot import run

    progress = output.Progress(args.quiet)
    run.configure(args.config_file)
    window = capture.parse_window(args.window)
    progress.step('connecting to the cloud')
    conn = capture.connect(args.os_cloud)
    doc = capture.capture(conn, capture.datasource_backend(), window,
                          progress=progress.step)
    load.parse(json.dumps(doc), args.output)  # what we write must load
    load.dump(doc, args.output)
    progress.step('wrote %s' % args.output)
    return 0


def _backtest(args):
    import numpy as np

    from heatwatcher.forecast import backtest
    from heatwatcher.snapshot import capture
    from heatwatcher.snapshot import load

    doc = load.load(args.snapshot)
    cpu_series = doc['metrics'].get('instance_cpu_usage', {})
    if not cpu_series:
        raise load.SnapshotError(path=args.snapshot,
                                 reason='no instance_cpu_usage series')
    steps = {spec['step'] for spec in cpu_series.values()}
    if len(steps) != 1:
        raise load.SnapshotError(
            path=args.snapshot, reason='instance_cpu_usage series have '
            'different steps %s; backtest needs one' % sorted(steps))
    step = steps.pop()
    starts = {uuid: load._parse_time(spec['start'])
              for uuid, spec in cpu_series.items()}
    start = min(starts.values())
    length = max(int((starts[uuid] - start).total_seconds() // step)
                 + len(spec['values']) for uuid, spec in cpu_series.items())
    ids = sorted(cpu_series)
    series = np.full((len(ids), length), np.nan)
    for row, key in enumerate(ids):
        offset = int((starts[key] - start).total_seconds() // step)
        values = [np.nan if value is None else value
                  for value in cpu_series[key]['values']]
        series[row, offset:offset + len(values)] = values
    horizon = capture.parse_window(args.horizon)
    slots = max(int(round(horizon / (args.slot_minutes * 60))), 1)
    y, dates = backtest.day_matrix(series, start, step, args.slot_minutes)
    if args.test_days < 1 or args.test_days >= y.shape[1]:
        raise load.SnapshotError(
            path=args.snapshot, reason='--test-days %d: the series span %d '
            'days; keep at least one for training' % (args.test_days,
                                                      y.shape[1]))
    result = backtest.backtest(y, backtest.categories(dates), slots,
                               args.test_days, ids)
    if args.format == 'json':
        print(json.dumps(result, indent=1))
        return 0
    print('Forecast of the mean load over the next %s (%d slots of %d min), '
          'last %d days tested, %d points'
          % (args.horizon, slots, args.slot_minutes, args.test_days,
             result['points']))
    for name, scores in result['models'].items():
        by_category = ', '.join(
            '%s %.2f' % (category, category_scores['mae'])
            for category, category_scores in scores['by_category'].items())
        print('  %-17s MAE %6.2f  MAPE %6.1f %%  (%s)%s' % (
            name, scores['mae'], scores['mape'] or float('nan'), by_category,
            '  <- chosen' if name == result['chosen'] else ''))
    return 0


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not args.command:
        parser().print_help()
        return 2
    _logging(args.verbose)
    try:
        if args.command == 'plan':
            return _plan(args, args.snapshot)
        if args.command == 'demo':
            return _plan(args, SAMPLE)
        if args.command == 'backtest':
            return _backtest(args)
        if args.command == 'sandbox':
            from heatwatcher.sandbox import cli as sandbox_cli
            return sandbox_cli.main(args)
        return _snapshot(args)
    except exception.HeatwatcherException as exc:
        sys.stderr.write('heatwatcher: error: %s\n'
                         % str(exc).replace('\n', ' '))
        return 2
    except KeyboardInterrupt:
        return 1
    except Exception as exc:
        sys.stderr.write('heatwatcher: %s: %s\n' % (type(exc).__name__,
                                                    exc))
        if args.verbose:
            raise
        return 1


if __name__ == '__main__':
    sys.exit(main())
