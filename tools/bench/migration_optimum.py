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
"""How far the solver's migrations are from the fewest possible.

The floors of :func:`heatwatcher.optimize.trim.migration_floor` count
instances outside the most populated hosts; they ignore capacity and the
load each host at target needs, so no placement may reach them. This
benchmark solves, for a generated cloud small enough, the exact problem:
the fewest migrations of any placement with at least the solver's hosts at
target, at most its active hosts and at most its active hosts off the loop
(one MILP over every instance and host, ``x[i, h]``, ``y[h]``, ``z[h]``,
the rows of :mod:`heatwatcher.optimize.milp`). Its lower bound (the MILP's
dual bound) is what "x optimum" divides by, so the ratio holds even when
the MILP stops on its time limit.

Usage: ``python tools/bench/migration_optimum.py [--sizes 30] [--seed 1]
[--seeds 3]
[--solver-time-limit 60] [--exact-time-limit 600] [--out DIR]``; results go
to ``doc/source/benchmarks/migration_optimum.{json,md}``.
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy
from scipy import optimize
from scipy import sparse

import results  # tools/bench, the script's directory

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def fewest_migrations(problem, reached, active, active_off_loop,
                      time_limit):
    """Exact fewest migrations at these levels (MILP over every host).

    :returns: ``(migrations or None, lower bound, status message)``.
    """
    from heatwatcher.optimize import problem as placement_problem
    capacity, load_cap = placement_problem.effective_capacity(problem)
    fix_used, fix_load = placement_problem.fixed_usage(problem)
    insts = np.flatnonzero(problem.movable)
    n, k = len(insts), problem.n_hosts
    room = np.maximum(capacity - fix_used, 0.0)
    lroom = np.maximum(load_cap - fix_load, 0.0)
    need = np.maximum(problem.need - fix_load, 0.0)
    can_reach = problem.loop & np.isfinite(need)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=k) > 0
    nx = n * k
    iy, iz = nx, nx + k
    nvar = nx + 2 * k
    x = np.arange(nx).reshape(n, k)
    demand, load = problem.demand[insts], problem.load[insts]
    blocks, lower, upper = [], [], []

    def rows(row_index, columns, values, count, row_lower, row_upper):
        blocks.append(sparse.csr_array((values, (row_index, columns)),
                                       shape=(count, nvar)))
        lower.append(np.broadcast_to(row_lower, (count,)))
        upper.append(np.broadcast_to(row_upper, (count,)))

    hosts = np.arange(k)
    per_host_rows = np.tile(hosts, n)
    rows(np.repeat(np.arange(n), k), x.ravel(), np.ones(nx), n, 1.0, 1.0)
    for resource in range(3):
        rows(np.concatenate([per_host_rows, hosts]),
             np.concatenate([x.ravel(), iy + hosts]),
             np.concatenate([np.repeat(demand[:, resource], k),
                             -room[:, resource]]), k, -np.inf, 0.0)
    rows(np.concatenate([per_host_rows, hosts]),
         np.concatenate([x.ravel(), iy + hosts]),
         np.concatenate([np.repeat(load, k), -lroom]), k, -np.inf, 0.0)
    rows(np.concatenate([per_host_rows, hosts]),
         np.concatenate([x.ravel(), iy + hosts]),
         np.concatenate([np.ones(nx), np.full(k, -float(n))]), k, -np.inf,
         0.0)
    rows(np.concatenate([per_host_rows, hosts]),
         np.concatenate([x.ravel(), iz + hosts]),
         np.concatenate([-np.repeat(load, k),
                         np.where(can_reach, need, 0.0)]), k, -np.inf, 0.0)
    rows(np.concatenate([hosts, hosts]), np.concatenate([iz + hosts,
                                                         iy + hosts]),
         np.concatenate([np.ones(k), -np.ones(k)]), k, -np.inf, 0.0)
    rows(np.zeros(k, int), iz + hosts, np.ones(k), 1, float(reached),
         np.inf)
    rows(np.zeros(k, int), iy + hosts, np.ones(k), 1, -np.inf,
         float(active))
    off_loop = np.flatnonzero(~problem.loop)
    rows(np.zeros(len(off_loop), int), iy + off_loop,
         np.ones(len(off_loop)), 1, -np.inf, float(active_off_loop))
    objective = np.zeros(nvar)
    objective[x[np.arange(n), problem.current[insts]]] = -1.0
    lower_bounds = np.zeros(nvar)
    lower_bounds[iy:iy + k] = pinned
    upper_bounds = np.ones(nvar)
    upper_bounds[iz:iz + k] = can_reach
    result = optimize.milp(
        objective, integrality=np.ones(nvar),
        bounds=optimize.Bounds(lower_bounds, upper_bounds),
        constraints=optimize.LinearConstraint(
            sparse.vstack(blocks).tocsr(), np.concatenate(lower),
            np.concatenate(upper)),
        options={'time_limit': float(time_limit), 'disp': False})
    dual = getattr(result, 'mip_dual_bound', None)
    bound = n + dual if dual is not None and np.isfinite(dual) else None
    migrations = (int(round(n + result.fun)) if result.x is not None
                  else None)
    return migrations, bound, str(result.message)


def one(hosts, seed, solver_time_limit, exact_time_limit):
    from heatwatcher.optimize import solver
    from heatwatcher.optimize import trim
    from tests import synthetic
    problem = synthetic.to_problem(synthetic.generate(hosts, seed=seed))
    started = time.monotonic()
    solved = solver.solve(problem, solver.Options(
        time_limit=solver_time_limit))
    solve_seconds = time.monotonic() - started
    level = solved.score
    started = time.monotonic()
    exact, bound, message = fewest_migrations(
        problem, level.reached, level.active, level.active_off_loop,
        exact_time_limit)
    return {
        'hosts': hosts, 'seed': seed, 'instances': problem.n_instances,
        'reached': level.reached, 'active': level.active,
        'migrations': level.migrations, 'solve_seconds': solve_seconds,
        'floor': trim.migration_floor(problem, solved.assign),
        'floor_same_levels': trim.migration_floor(problem, solved.assign,
                                                  same_levels=True),
        'exact': exact, 'exact_lower_bound': bound,
        'exact_seconds': time.monotonic() - started,
        'exact_message': message}


def markdown(result):
    lines = [
        '# Migrations against the fewest possible',
        '',
        'Generated by `python tools/bench/migration_optimum.py` on %s, '
        'Python %s, scipy %s, %d CPUs. A generated cloud (`tests.synthetic`, '
        'as in the consolidation benchmark) solved by `solver.solve` '
        '(time limit %g s); then one MILP over every instance and host gives '
        'the fewest migrations of any placement with as many hosts at '
        'target, no more active hosts and no more active hosts off the loop '
        '("exact", with its dual bound "lower"; the MILP had %g s). "floor" '
        'and "floor*" are the counting floors of the consolidation '
        'benchmark, which ignore capacity and need.'
        % (result['machine'], result['python'], result['scipy'],
           result['cpus'], result['solver_time_limit'],
           result['exact_time_limit']),
        '',
        '| hosts | seed | inst. | reaching | active | migr. | floor | '
        'floor* | exact | lower | x lower | x floor* | exact s |',
        '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for row in result['rows']:
        lower = row['exact_lower_bound']
        lines.append(
            '| %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %.2f '
            '| %.0f |' % (
                row['hosts'], row['seed'], row['instances'], row['reached'],
                row['active'], row['migrations'], row['floor'],
                row['floor_same_levels'],
                '-' if row['exact'] is None else row['exact'],
                '-' if lower is None else '%.0f' % np.ceil(lower - 1e-6),
                '-' if not lower else '%.2f' % (
                    row['migrations'] / np.ceil(lower - 1e-6)),
                row['migrations'] / max(row['floor_same_levels'], 1),
                row['exact_seconds']))
    if result.get('note'):
        lines += ['', result['note']]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[30])
    parser.add_argument('--seed', type=int, default=1,
                        help='first seed (1, as the consolidation '
                             'benchmark)')
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--solver-time-limit', type=float, default=60.0)
    parser.add_argument('--exact-time-limit', type=float, default=600.0)
    parser.add_argument('--note', help='a paragraph under the table')
    results.add_out_argument(parser)
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    rows = []
    for hosts in args.sizes:
        for seed in range(args.seed, args.seed + args.seeds):
            row = one(hosts, seed, args.solver_time_limit,
                      args.exact_time_limit)
            print(row, flush=True)
            rows.append(row)
    result = {'machine': platform.machine(),
              'python': platform.python_version(),
              'scipy': scipy.__version__, 'cpus': os.cpu_count(),
              'solver_time_limit': args.solver_time_limit,
              'exact_time_limit': args.exact_time_limit, 'note': args.note,
              'rows': rows}
    results.write(args.out, 'migration_optimum', result, markdown(result))
    print(markdown(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
