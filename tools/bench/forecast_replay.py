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
"""Replay days of PlanetLab traces: hourly audits, three strategies.

Generated clusters (:func:`tests.synthetic.generate`) whose
instances run PlanetLab VM traces (``../shared``; VMs on 6 or more days,
the days taken in date order as if consecutive, 20-minute slots). On each
of the last days, every hour, each mode plans with the same solver as the
strategy and its placement is applied at once:

* reactive: heat_consolidation planning on each instance's mean load over
  the last hour;
* auto: the forecaster is fitted at the start of each day on the earlier
  days (accuracy window: the 2 days before; ``retrain_interval`` 1 day);
  while its backtest error is below ``autostart_accuracy`` the plan uses
  the damped forecast of the next hour (hosts outside
  ``[failsafe_low, failsafe_high]`` stay reactive), otherwise it is
  reactive. The plan must beat staying put in at least
  ``min_benefit_duration`` (0.5) of the hour's forecast slots, as in the
  strategy;
* vwc: Watcher's ``vm_workload_consolidation`` run through its strategy
  class on the placement and the last hour's mean loads.

Both heat_consolidation modes hold loop hosts within ``target_hysteresis``
(5 %) of their target, and keep a plan that only releases hosts only if
its hosts at target keep their target with every load 5 % lower, as the
strategy does (:mod:`heatwatcher.optimize.calm`).

Each placement is then scored on what the traces actually did during the
hour: loop hosts reaching their target in each slot (host-hours at target),
the heat those hosts gave (harvested kWh, their linear idle/max power at the
slot's load) and host-slots whose CPU load exceeded their cores
(overloaded).

Usage: ``python tools/bench/forecast_replay.py [--hosts 50] [--seeds 7,3]
[--days 3] [--time-limit 10] [--migration-heat-cost W] [--no-vwc]
[--out DIR]``. With ``--migration-heat-cost``, auto mode is also replayed
making only migrations worth that many watts each, as the strategy does
with ``migration_heat_cost``.
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
from heatwatcher.optimize import calm
from heatwatcher.optimize import damping
from heatwatcher.optimize import priced
from heatwatcher.optimize import solver

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the repo root
import forecast as forecast_bench  # noqa: E402  (the sibling benchmark)
import results  # noqa: E402
from tests import synthetic  # noqa: E402  (the test tree's clusters)

HORIZON = 3                      # slots of 20 min: one hour
SLOT_HOURS = 20 / 60.0
TARGET_HYSTERESIS = 0.05         # the strategy's default


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


def solve(base, current, percent, vcpus, time_limit, heat_cost=0.0):
    """The strategy's solve: targets held, releases kept only with margin.

    With ``heat_cost`` (W), only migrations worth that much each are made
    (``migration_heat_cost``, :func:`~heatwatcher.optimize.priced.
    priced_plan` with the same time limit, as in the strategy).

    :returns: ``(placement (N,), the problem with targets held)``.
    """
    prob = dataclasses.replace(
        base, current=current.copy(),
        load=np.nan_to_num(percent, nan=100.0) / 100.0 * vcpus)
    held, _ = calm.hold_targets(prob, TARGET_HYSTERESIS)
    assign = solver.solve(held, solver.Options(
        time_limit=time_limit)).assign
    if heat_cost > 0 and (assign != current).any():
        assign = priced.priced_plan(held, assign, heat_cost, solver.Options(
            time_limit=time_limit)).assign
    keep, _, _ = calm.release_lasts(prob, held, assign, TARGET_HYSTERESIS)
    return (assign if keep else current.copy()), held


def score(base, assign, actual, vcpus):
    """Slots at target, harvested kWh and overloaded host-slots."""
    reached = over = 0
    harvested_wh = 0.0
    for j in range(actual.shape[1]):
        load = np.bincount(assign, weights=np.nan_to_num(actual[:, j])
                           / 100.0 * vcpus, minlength=base.n_hosts)
        count = np.bincount(assign, minlength=base.n_hosts)
        at_target = base.loop & (count > 0) & (load >= base.need - 1e-9)
        reached += int(at_target.sum())
        harvested_wh += float(base.heat_at(load)[at_target].sum()
                              * SLOT_HOURS)
        over += int((load > base.cores + 1e-9).sum())
    return reached, harvested_wh / 1000.0, over


def vwc_step(cluster, base, current, percent):
    """Watcher's vm_workload_consolidation on the placement ``current``.

    :returns: ``(N,)`` the placement after its plan.
    """
    from watcher.common import utils
    from watcher.decision_engine.strategy.strategies import \
        vm_workload_consolidation as vwc
    now = dataclasses.replace(cluster, instances=[
        dataclasses.replace(inst, host=base.host_names[host],
                            cpu_percent=float(np.nan_to_num(pct, nan=100.0)))
        for inst, host, pct in zip(cluster.instances, current, percent)])
    model = synthetic.to_model(now)
    strategy = vwc.VMWorkloadConsolidation(
        config=utils.Struct({'datasources': None}))
    strategy._compute_model = model
    strategy._datasource_backend = synthetic.to_datasource(now)
    strategy.input_parameters = utils.Struct({'period': 3600,
                                              'granularity': 300})
    strategy.execute()
    index = {name: k for k, name in enumerate(base.host_names)}
    return np.array([index[model.get_node_by_instance_uuid(
        inst.uuid).hostname] for inst in cluster.instances])


def _vwc_ready():
    """Watcher's options, parsed once per process for its strategies."""
    import logging
    import warnings

    from watcher import conf
    if not getattr(_vwc_ready, 'done', False):
        warnings.filterwarnings('ignore')
        logging.disable(logging.WARNING)
        conf.CONF([], project='watcher', default_config_files=[])
        _vwc_ready.done = True


def replay(y, cats, n_hosts, seed, threshold, low, high, benefit,
           days=1, lasting=True, with_vwc=True, time_limit=10.0,
           heat_cost=0.0):
    cluster, traces = cluster_with_traces(y, n_hosts, seed)
    base = synthetic.to_problem(cluster)
    vcpus = base.demand[:, 0]
    n, n_days, k = traces.shape
    day0 = (n_days - days) * k
    flat = traces.reshape(n, -1)
    out = {'reactive': [], 'auto': []}
    if heat_cost > 0:
        out['auto_cost'] = []
    if with_vwc:
        _vwc_ready()
        out['vwc'] = []
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
            if mode == 'vwc':
                new = vwc_step(cluster, base, current, measured)
                reached, kwh, over = score(base, new, actual, vcpus)
                out[mode].append({
                    'hour': hour, 'mode': mode,
                    'migrations': int((new != current).sum()),
                    'hosts_at_target_hours': reached / HORIZON,
                    'harvested_kwh': round(kwh, 3),
                    'overloaded_host_slots': over,
                    'active_hosts': int(len(np.unique(new))),
                    'on_forecast': 0})
                place[mode] = new
                continue
            decision = modes.decide('auto' if mode == 'auto_cost' else mode,
                                    fitted, threshold)
            if decision.mode == 'proactive':
                path, _ = predictor.forecast(seen, cats, t, HORIZON, fitted)
                host = modes.host_load(measured, vcpus, current, base.cores)
                safe = modes.failsafe(decision, base.host_names, host, low,
                                      high)
                pct, used = modes.planning_percent(decision, measured, path,
                                                   current, safe, benefit)
            new, prob = solve(base, current, pct, vcpus, time_limit,
                              heat_cost if mode == 'auto_cost' else 0.0)
            if decision.mode == 'proactive' and lasting:
                keep, _ = damping.lasting(prob, new, path, used, benefit)
                new = new if keep else current
            reached, kwh, over = score(base, new, actual, vcpus)
            out[mode].append({
                'hour': hour, 'mode': decision.mode,
                'migrations': int((new != current).sum()),
                'hosts_at_target_hours': reached / HORIZON,
                'harvested_kwh': round(kwh, 3),
                'overloaded_host_slots': over,
                'active_hosts': int(len(np.unique(new))),
                'on_forecast': int(used.sum())})
            place[mode] = new
    return cluster, fitted, float(np.mean(fit_s)), out


def _totals(rows, skip_first=False):
    rows = rows[1:] if skip_first else rows
    return {'migrations': sum(r['migrations'] for r in rows),
            'migrations_per_hour': round(
                sum(r['migrations'] for r in rows) / max(len(rows), 1), 2),
            'hosts_at_target_hours': round(sum(r['hosts_at_target_hours']
                                               for r in rows), 2),
            'harvested_kwh': round(sum(r['harvested_kwh'] for r in rows),
                                   2),
            'overloaded_host_slots': sum(r['overloaded_host_slots']
                                         for r in rows)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hosts', type=int, default=50)
    ap.add_argument('--seeds', default='7,3,11',
                    help='generated clusters (comma-separated seeds)')
    ap.add_argument('--days', type=int, default=3,
                    help='last days of the traces replayed')
    ap.add_argument('--autostart-accuracy', type=float, default=5.0)
    ap.add_argument('--time-limit', type=float, default=10.0,
                    help='solver_time_limit (s) of each audit')
    ap.add_argument('--migration-heat-cost', type=float, default=0.0,
                    help='also replay auto mode with this '
                         'migration_heat_cost (W)')
    ap.add_argument('--no-vwc', action='store_true',
                    help='leave out vm_workload_consolidation')
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
             0.5, args.days, True, not args.no_vwc, args.time_limit,
             args.migration_heat_cost)
            for seed in seeds]
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
    strategies = list(runs[0]['totals'])
    overall = {m: {k: round(sum(r['totals'][m][k] for r in runs), 2)
                   for k in runs[0]['totals'][m]}
               for m in strategies}
    for m in strategies:
        hours = sum(len(r['hours'][m]) for r in runs)
        overall[m]['migrations_per_hour'] = round(
            overall[m]['migrations'] / max(hours, 1), 2)
    summary = {'autostart_accuracy': args.autostart_accuracy,
               'target_hysteresis': TARGET_HYSTERESIS,
               'days': args.days, 'overall': overall, 'runs': runs}
    names = {'reactive': 'heat_consolidation reactive',
             'auto': 'heat_consolidation auto',
             'auto_cost': 'heat_consolidation auto, migration_heat_cost '
                          '%g W' % args.migration_heat_cost,
             'vwc': 'vm_workload_consolidation'}
    lines = [
        '# Hourly audits over days of PlanetLab traces', '',
        'Generated by `python tools/bench/forecast_replay.py --hosts %d '
        '--seeds %s --days %d --time-limit %g%s%s`: generated clusters of '
        '%d '
        'hosts whose instances run PlanetLab VM traces; every hour of the '
        'last %d days each strategy plans (heat_consolidation with the '
        'strategy\'s solver, reactive and auto mode, target_hysteresis '
        '%.0f %%; vm_workload_consolidation through its Watcher class), its '
        'placement is applied and scored on what the traces did in the '
        'following hour. The first hour consolidates the generated '
        'placement; "after 1st hour" columns leave it out. Harvested kWh: '
        'heat of the loop hosts at target, slot by slot.' % (
            args.hosts, args.seeds, args.days, args.time_limit,
            ' --migration-heat-cost %g' % args.migration_heat_cost
            if args.migration_heat_cost else '',
            ' --no-vwc' if args.no_vwc else '', args.hosts, args.days,
            100 * TARGET_HYSTERESIS), '',
        '| cluster | strategy | migrations | after 1st hour | per hour '
        'after 1st | loop host-hours at target | harvested kWh | '
        'overloaded host-slots |',
        '|---|---|---:|---:|---:|---:|---:|---:|']
    for run in runs:
        for m in strategies:
            tot, aft = run['totals'][m], run['after_first_hour'][m]
            lines.append('| seed %d (%d loop hosts, %d instances) | %s | %d '
                         '| %d | %.2f | %.1f | %.1f | %d |' % (
                             run['seed'], run['loop_hosts'],
                             run['instances'], names[m], tot['migrations'],
                             aft['migrations'], aft['migrations_per_hour'],
                             tot['hosts_at_target_hours'],
                             tot['harvested_kwh'],
                             tot['overloaded_host_slots']))
    for m in strategies:
        lines.append('| all | %s | %d | | | %.1f | %.1f | %d |' % (
            names[m], overall[m]['migrations'],
            overall[m]['hosts_at_target_hours'],
            overall[m]['harvested_kwh'],
            overall[m]['overloaded_host_slots']))
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
              '| day | hour | %s |' % ' | '.join(strategies),
              '|---:|---:|%s' % ('---:|' * len(strategies))]
    for position, row in enumerate(first['hours']['reactive']):
        lines.append('| %d | %02d:00 | %s |' % (
            row['hour'] // 24 + 1, row['hour'] % 24, ' | '.join(
                '%d / %.2f' % (first['hours'][m][position]['migrations'],
                               first['hours'][m][position][
                                   'hosts_at_target_hours'])
                for m in strategies)))
    results.write(args.out, 'forecast_replay', summary,
                  '\n'.join(lines) + '\n')
    print('\n'.join(lines[:8 + (len(runs) + 1) * len(strategies)]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
