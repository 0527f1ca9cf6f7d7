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
"""Benchmark heat_consolidation against Watcher's vm_workload_consolidation.

Both strategies run through their Watcher classes on the same generated
cluster (:mod:`tests.synthetic`: flavours of 1-8 vCPUs, hosts of 32 or
64 cores, about 35 % CPU use, about 10 instances per host; 60 % of the hosts
on the loop with targets at idle + 70 % of the dynamic range) and the same
instance_cpu_usage series. Each final placement is scored with the same heat
model. Results go to ``doc/source/benchmarks/consolidation.{json,md}``.

Usage: ``tox -e bench`` or ``python tools/bench/consolidation.py
[--sizes 10 50 ...] [--seeds 3] [--vwc-max 400] [--out DIR]``.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy

import results  # tools/bench, the script's directory

# The synthetic clusters live in the test tree, at the repository's root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _quiet():
    warnings.filterwarnings('ignore')
    import logging
    logging.disable(logging.WARNING)


def _conf():
    """Register and parse Watcher's options, with no config file."""
    from watcher import conf
    conf.CONF([], project='watcher', default_config_files=[])


def run_strategy(cls, config, params, model, datasource):
    from watcher.common import utils
    strategy = cls(config=utils.Struct(config))
    strategy._compute_model = model
    strategy._datasource_backend = datasource
    strategy.input_parameters = utils.Struct(params)
    t0 = time.perf_counter()
    solution = strategy.execute()
    return strategy, solution, time.perf_counter() - t0


def placement_score(cluster, model):
    """Score the placement now in ``model`` with heatwatcher's model."""
    from heatwatcher.optimize import score
    from tests import synthetic
    problem = synthetic.to_problem(cluster)
    index = {n: k for k, n in enumerate(problem.host_names)}
    uuids = sorted(i.uuid for i in cluster.instances)
    assign = np.array([index[model.get_node_by_instance_uuid(u).hostname]
                       for u in uuids])
    cap, lcap = problem.capacity, problem.load_cap
    used, load, _ = problem.host_usage(assign)
    over = int(np.any(used > cap + 1e-6, axis=1).sum()
               + (load > lcap + 1e-6).sum())
    return score.evaluate(problem, assign), over, floors(problem, assign)


def floors(problem, assign):
    """Migration floors of ``assign``: any hosts, same levels.

    See :func:`heatwatcher.optimize.trim.migration_floor`.
    """
    from heatwatcher.optimize import trim
    return {'floor': trim.migration_floor(problem, assign),
            'floor_same_levels': trim.migration_floor(problem, assign,
                                                      same_levels=True)}


def with_floor_ratios(row, migrations, floor):
    row.update(floor)
    row['ratio_to_floor'] = round(migrations / max(floor['floor'], 1), 3)
    row['ratio_to_floor_same_levels'] = round(
        migrations / max(floor['floor_same_levels'], 1), 3)
    return row


def bench_size(n, seed, time_limit, with_vwc):
    from heatwatcher.strategies import heat_consolidation as hc
    from heatwatcher.strategies import heat_consolidation_settings as hs
    from tests import synthetic
    from watcher.decision_engine.strategy.strategies import \
        vm_workload_consolidation as vwc

    cluster = synthetic.generate(n, seed=seed)
    row = {'hosts': n, 'instances': len(cluster.instances),
           'loop_hosts': sum(h.loop for h in cluster.hosts)}
    config = {o.dest: o.default for o in hs.config_opts()}
    config['datasources'] = None
    params = dict(synthetic.strategy_parameters(cluster),
                  solver_time_limit=time_limit)
    strategy, solution, seconds = run_strategy(
        hc.HeatConsolidation, config, params, synthetic.to_model(cluster),
        synthetic.to_datasource(cluster))
    ind = {i.name: i.value for i in solution.efficacy_indicators}
    solver = strategy.report['solver']
    reached = ind['hosts_reaching_target_count']
    s, over, floor = placement_score(cluster, strategy.compute_model)
    row['heat_consolidation'] = with_floor_ratios({
        'reaching_target': reached, 'upper_bound': solver['upper_bound'],
        'bound_method': solver['bound_method'],
        'ratio_to_bound': round(reached / max(solver['upper_bound'], 1), 4),
        'active_hosts': s.active,
        'active_below_target': s.active - s.reached,
        'migrations': ind['instance_migrations_count'],
        'harvested_kw': round(ind['harvested_heat_rate_after'] / 1000, 2),
        'seconds': round(seconds, 2), 'method': solver['method'],
        'over_capacity_hosts': over,
        'greedy_seconds': round(solver['greedy_seconds'], 2),
        'bound_seconds': round(solver['bound_seconds'], 2),
        'cells': solver['cells'],
        'sequencing_waves': solver['sequencing']['waves'],
        'sequencing_seconds': round(solver['sequencing']['seconds'], 2),
        'temporary_hops': solver['sequencing']['temporary_hops'],
    }, ind['instance_migrations_count'], floor)
    if with_vwc:
        model = synthetic.to_model(cluster)
        strategy, solution, seconds = run_strategy(
            vwc.VMWorkloadConsolidation, {'datasources': None},
            {'period': 3600, 'granularity': 300}, model,
            synthetic.to_datasource(cluster))
        s, over, floor = placement_score(cluster, model)
        ind = {i.name: i.value for i in solution.efficacy_indicators}
        row['vm_workload_consolidation'] = with_floor_ratios({
            'reaching_target': s.reached, 'active_hosts': s.active,
            'active_below_target': s.active - s.reached,
            'migrations': ind['instance_migrations_count'],
            'seconds': round(seconds, 2), 'over_capacity_hosts': over},
            ind['instance_migrations_count'], floor)
    return row


def markdown(result):
    lines = [
        '# heat_consolidation vs vm_workload_consolidation', '',
        'Generated by `%s` on %s, Python %s, scipy %s, %d CPUs.' % (
            result['command'], result['machine'], result['python'],
            result['scipy'], result['cpus']), '',
        'Loop hosts reaching target (bound: the LP relaxation of the full '
        'problem, aggregated over host classes), active hosts, active hosts '
        'below target, migrations, wall time of the whole strategy run. '
        '"over cap." counts hosts whose vCPU/RAM/disk allocation or CPU use '
        'exceeds capacity after the plan. "waves (s)": migration waves of '
        'the heat_sequenced order (default limits: 8 at once, 1 per '
        'source, 2 per destination) and the time to compute it. "floor": '
        'the migrations no placement with as many active hosts can avoid '
        '(every movable instance outside the most populated hosts that '
        'stay active moves); "floor*": the same over the hosts that may '
        'stay active in a placement as good on the heat levels (loop '
        'hosts when none off the loop is active, loop hosts that can reach '
        'target when every active host reaches it). "x floor": migrations '
        'over each floor.', '',
        '| hosts | inst. | loop | strategy | reaching | bound | ratio | '
        'active | below | migr. | floor | floor* | x floor (x floor*) | '
        'over cap. | s | waves (s) |',
        '|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
        '---:|---:|---:|']
    for r in result['rows']:
        h = r['heat_consolidation']
        lines.append('| %d | %d | %d | heat_consolidation | %d | %d | %.1f %% '
                     '| %d | %d | %d | %d | %d | %.2f (%.2f) | %d | %.1f | '
                     '%d (%.2f) |' % (
                         r['hosts'], r['instances'], r['loop_hosts'],
                         h['reaching_target'], h['upper_bound'],
                         100 * h['ratio_to_bound'], h['active_hosts'],
                         h['active_below_target'], h['migrations'],
                         h['floor'], h['floor_same_levels'],
                         h['ratio_to_floor'], h['ratio_to_floor_same_levels'],
                         h['over_capacity_hosts'], h['seconds'],
                         h['sequencing_waves'], h['sequencing_seconds']))
        v = r.get('vm_workload_consolidation')
        if v:
            lines.append('| | | | vm_workload_consolidation | %d | | | %d | '
                         '%d | %d | %d | %d | %.2f (%.2f) | %d | %.1f | |' % (
                             v['reaching_target'], v['active_hosts'],
                             v['active_below_target'], v['migrations'],
                             v['floor'], v['floor_same_levels'],
                             v['ratio_to_floor'],
                             v['ratio_to_floor_same_levels'],
                             v['over_capacity_hosts'], v['seconds']))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--sizes', type=int, nargs='+',
                    default=[10, 50, 100, 200, 400, 1000])
    ap.add_argument('--vwc-max', type=int, default=400,
                    help='largest size on which vm_workload_consolidation '
                         'also runs')
    ap.add_argument('--time-limit', type=float, default=25.0,
                    help='solver_time_limit (s) below 1000 hosts')
    ap.add_argument('--large-time-limit', type=float, default=100.0,
                    help='solver_time_limit (s) from 1000 hosts')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--seeds', type=int, default=1,
                    help='clusters per size (seeds seed, seed + 1, ...)')
    ap.add_argument('--name', default='consolidation',
                    help='results file name, without extension (default '
                         '%(default)s)')
    results.add_out_argument(ap)
    args = ap.parse_args(argv)
    _quiet()
    _conf()
    rows = []
    for n in args.sizes:
        limit = args.time_limit if n < 1000 else args.large_time_limit
        for seed in range(args.seed, args.seed + args.seeds):
            row = bench_size(n, seed, limit, n <= args.vwc_max)
            row['seed'] = seed
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {'machine': platform.machine(), 'python':
              platform.python_version(), 'scipy': scipy.__version__,
              'cpus': os.cpu_count(), 'seed': args.seed, 'rows': rows}
    result['command'] = 'python tools/bench/consolidation.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    results.write(args.out, args.name, result, markdown(result))
    print(markdown(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
