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
"""Replay a day of PlanetLab traces: reactive vs auto mode, hour by hour.

Generated clusters (:func:`tests.synthetic.generate`) whose
instances run PlanetLab VM traces (``../shared``; VMs on 6 or more days,
the days taken in date order as if consecutive, 20-minute slots). On each
of the last days, every hour, each mode plans with the same solver as the
strategy and its placement is applied at once:

* reactive: instances planned on their mean load over the last hour;
* auto: the forecaster is fitted at the start of each day on the earlier
  days (accuracy window: the 2 days before; ``retrain_interval`` 1 day);
  while its backtest error is below ``autostart_accuracy`` the plan uses
  the damped forecast of the next hour (hosts outside
  ``[failsafe_low, failsafe_high]`` stay reactive), otherwise it is
  reactive. The plan must beat staying put in at least
  ``min_benefit_duration`` (0.5) of the hour's forecast slots, as in the
  strategy.

Each placement is then scored on what the traces actually did during the
hour: loop hosts reaching their target in each slot (host-hours at target),
and host-slots whose CPU load exceeded their cores (overloaded).

Usage: ``python tools/bench/forecast_replay.py [--hosts 10] [--seeds 7,3]
[--days 3] [--out DIR]``.
"""

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time

import numpy as np

from heatwatcher.forecast import models
from heatwatcher.forecast import modes
from heatwatcher.forecast import predictor
from heatwatcher.optimize import damping
from heatwatcher.optimize import solver

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the repo root
import forecast as forecast_bench  # noqa: E402  (the sibling benchmark)
import results  # noqa: E402
from tests import synthetic  # noqa: E402  (the test tree's clusters)

HORIZON = 3                      # slots of 20 min: one hour


def cluster_with_traces(y, n_hosts, seed):
    cluster = synthetic.generate(n_hosts, seed=seed, per_host=16,
                                 target_fraction=0.35)
    rng = np.random.default_rng(seed)
    # VMs with a trace on the test day and on most earlier days
    ok = np.flatnonzero(np.isfinite(y[:, -1]).all(axis=1)
                        & (np.isfinite(y[:, :-1, 0]).sum(axis=1) >= 6))
    pick = rng.choice(ok, size=len(cluster.instances),
                      replace=len(ok) < len(cluster.instances))
    return cluster, y[pick]


def solve(base, current, percent, vcpus):
    prob = dataclasses.replace(
        base, current=current.copy(),
        load=np.nan_to_num(percent, nan=100.0) / 100.0 * vcpus)
    return solver.solve(prob, solver.Options(time_limit=30.0)).assign, prob


def score(base, assign, actual, vcpus):
    """Slots at target per loop host and overloaded host-slots."""
    reached = over = 0
    for j in range(actual.shape[1]):
        load = np.bincount(assign, weights=actual[:, j] / 100.0 * vcpus,
                           minlength=base.n_hosts)
        count = np.bincount(assign, minlength=base.n_hosts)
        reached += int((base.loop & (count > 0)
                        & (load >= base.need - 1e-9)).sum())
        over += int((load > base.cores + 1e-9).sum())
    return reached, over


def replay(y, cats, n_hosts, seed, threshold, low, high, benefit,
           days=1, lasting=True):
    cluster, traces = cluster_with_traces(y, n_hosts, seed)
    base = synthetic.to_problem(cluster)
    vcpus = base.demand[:, 0]
    n, n_days, k = traces.shape
    day0 = (n_days - days) * k
    flat = traces.reshape(n, -1)
    out = {'reactive': [], 'auto': []}
    place = {m: base.current.copy() for m in out}
    fitted, fit_s = None, []
    for hour in range(24 * days):
        t = day0 + hour * HORIZON
        seen = traces.copy()
        seen.reshape(n, -1)[:, t:] = np.nan
        measured = models._nanmean(flat[:, t - HORIZON:t], 1)
        actual = flat[:, t:t + HORIZON]
        if hour % 24 == 0:                 # refit daily (retrain_interval)
            t0 = time.monotonic()
            fitted = predictor.fit(seen, cats, t, HORIZON, test_days=2,
                                   hosts=place['auto'], vcpus=vcpus,
                                   cores=base.cores, names=base.host_names)
            fit_s.append(time.monotonic() - t0)
        for mode in out:
            current = place[mode]
            pct, used = measured, np.zeros(n, bool)
            decision = modes.decide(mode, fitted, threshold)
            if decision.mode == 'proactive':
                path, _ = predictor.forecast(seen, cats, t, HORIZON, fitted)
                host = modes.host_load(measured, vcpus, current, base.cores)
                safe = modes.failsafe(decision, base.host_names, host, low,
                                      high)
                pct, used = modes.planning_percent(decision, measured, path,
                                                   current, safe, benefit)
            new, prob = solve(base, current, pct, vcpus)
            if decision.mode == 'proactive' and lasting:
                keep, _ = damping.lasting(prob, new, path, used, benefit)
                new = new if keep else current
            reached, over = score(base, new, actual, vcpus)
            out[mode].append({
                'hour': hour, 'mode': decision.mode,
                'migrations': int((new != current).sum()),
                'hosts_at_target_hours': reached / HORIZON,
                'overloaded_host_slots': over,
                'active_hosts': int(len(np.unique(new))),
                'on_forecast': int(used.sum())})
            place[mode] = new
    return cluster, fitted, float(np.mean(fit_s)), out


def _totals(rows, skip_first=False):
    rows = rows[1:] if skip_first else rows
    return {'migrations': sum(r['migrations'] for r in rows),
            'hosts_at_target_hours': round(sum(r['hosts_at_target_hours']
                                               for r in rows), 2),
            'overloaded_host_slots': sum(r['overloaded_host_slots']
                                         for r in rows)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hosts', type=int, default=10)
    ap.add_argument('--seeds', default='7,3,11',
                    help='generated clusters (comma-separated seeds)')
    ap.add_argument('--days', type=int, default=3,
                    help='last days of the traces replayed')
    ap.add_argument('--autostart-accuracy', type=float, default=5.0)
    results.add_out_argument(ap)
    args = ap.parse_args(argv)
    if not os.path.exists(forecast_bench.SHARED):
        sys.stderr.write('forecast_replay: %s not found\n'
                         % forecast_bench.SHARED)
        return 2
    y, days, _ = forecast_bench.load(forecast_bench.SHARED)
    cats = forecast_bench.backtest.categories(days)
    runs = []
    seeds = [int(x) for x in args.seeds.split(',')]
    jobs = [(y, cats, args.hosts, seed, args.autostart_accuracy, 0.0, 90.0,
             0.5, args.days) for seed in seeds]
    with multiprocessing.Pool(min(len(jobs), os.cpu_count() or 1)) as pool:
        outcomes = pool.starmap(replay, jobs)
    for seed, (cluster, fitted, fit_s, out) in zip(seeds, outcomes):
        n = len(cluster.instances)
        auto = out['auto']
        runs.append({
            'seed': seed, 'hosts': args.hosts, 'instances': n,
            'loop_hosts': sum(h.loop for h in cluster.hosts),
            'model': fitted.chosen,
            'backtest_error_percent_of_host': fitted.error,
            'fit_seconds': round(fit_s, 3),
            'auto_proactive_hours': sum(r['mode'] == 'proactive'
                                        for r in auto),
            'auto_share_instances_on_forecast': round(
                sum(r['on_forecast'] for r in auto)
                / float(n * len(auto)), 3),
            'totals': {m: _totals(rows) for m, rows in out.items()},
            'after_first_hour': {m: _totals(rows, True)
                                 for m, rows in out.items()},
            'hours': out})
    overall = {m: {k: round(sum(r['totals'][m][k] for r in runs), 2)
                   for k in runs[0]['totals'][m]}
               for m in ('reactive', 'auto')}
    summary = {'autostart_accuracy': args.autostart_accuracy,
               'days': args.days, 'overall': overall, 'runs': runs}
    lines = [
        '# Reactive vs auto mode: days of PlanetLab traces replayed', '',
        'Generated by `tox -e bench` (`tools/bench/forecast_replay.py`): '
        'generated clusters of %d hosts whose instances run PlanetLab VM '
        'traces; every hour of the last %d days each mode plans with the '
        'strategy\'s solver, its placement is applied and scored on what '
        'the traces did in the following hour. The first hour consolidates '
        'the generated placement in both modes; "after" columns leave it '
        'out.' % (args.hosts, args.days), '',
        '| cluster | mode | migrations | after 1st hour | loop host-hours '
        'at target | overloaded host-slots |',
        '|---|---|---:|---:|---:|---:|']
    for run in runs:
        for m in ('reactive', 'auto'):
            tot, aft = run['totals'][m], run['after_first_hour'][m]
            lines.append('| seed %d (%d loop hosts, %d instances) | %s | %d '
                         '| %d | %.1f | %d |' % (
                             run['seed'], run['loop_hosts'],
                             run['instances'], m, tot['migrations'],
                             aft['migrations'],
                             tot['hosts_at_target_hours'],
                             tot['overloaded_host_slots']))
    lines.append('| all | reactive | %d | | %.1f | %d |' % (
        overall['reactive']['migrations'],
        overall['reactive']['hosts_at_target_hours'],
        overall['reactive']['overloaded_host_slots']))
    lines.append('| all | auto | %d | | %.1f | %d |' % (
        overall['auto']['migrations'],
        overall['auto']['hosts_at_target_hours'],
        overall['auto']['overloaded_host_slots']))
    lines.append('')
    for run in runs:
        lines.append(
            '- seed %d: auto chose model %s, backtest MAE %.2f %% of host '
            'capacity (autostart_accuracy %.1f %%), proactive in %d of %d '
            'hours, %.1f %% of instance-hours on the forecast (the rest '
            'in failsafe); fit %.2f s.' % (
                run['seed'], run['model'],
                run['backtest_error_percent_of_host'],
                args.autostart_accuracy, run['auto_proactive_hours'],
                len(run['hours']['auto']),
                100 * run['auto_share_instances_on_forecast'],
                run['fit_seconds']))
    first = runs[0]
    lines += ['', 'Per hour, seed %d (migrations / loop host-hours at '
              'target):' % first['seed'], '',
              '| day | hour | reactive | auto |', '|---:|---:|---:|---:|']
    for r, a in zip(first['hours']['reactive'], first['hours']['auto']):
        lines.append('| %d | %02d:00 | %d / %.2f | %d / %.2f |' % (
            r['hour'] // 24 + 1, r['hour'] % 24, r['migrations'],
            r['hosts_at_target_hours'], a['migrations'],
            a['hosts_at_target_hours']))
    results.write(args.out, 'forecast_replay', summary,
                  '\n'.join(lines) + '\n')
    print('\n'.join(lines[:10 + 3 * len(runs) + 2]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
