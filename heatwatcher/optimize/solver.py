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
"""Place instances: greedy start, exact or cell-wise MILP, valid bound.

* Small problems (``movable x hosts <= full_milp_columns``) are solved as one
  MILP over every host.
* Larger ones run a large-neighbourhood search: cells of ``cell_size`` hosts
  are re-solved exactly with the rest of the placement fixed, and a cell's
  result is kept only if the whole placement scores better. Cells alternate
  between *target* cells (hosts below target with the hosts that have the
  most load to spare) and *sweep* cells (a shuffled partition of the active
  hosts), until time runs out or a full sweep finds nothing.
* The LP bound of :mod:`~.bound` is computed on the full problem, so the
  result is always reported against it, whatever the cells were.

The outcome is a :class:`Result`; an infeasible or time-limited solve is a
status with a reason, never an exception.
"""

import dataclasses
import time

import numpy as np

from heatwatcher.optimize import bound as bound_mod
from heatwatcher.optimize import greedy as greedy_mod
from heatwatcher.optimize import milp
from heatwatcher.optimize import problem as problem_mod
from heatwatcher.optimize import score as score_mod


@dataclasses.dataclass
class Options:
    """Solver settings.

    :ivar time_limit: wall-clock budget for the whole solve (s).
    :ivar mip_rel_gap: relative gap at which a MILP solve stops.
    :ivar max_moves: most migrations in the plan (None: unlimited).
    :ivar full_milp_columns: largest ``movable x hosts`` solved in one MILP.
    :ivar cell_size: hosts per LNS cell.
    :ivar node_limit: branch-and-bound nodes per MILP solve. Solves are
        bounded by this work limit, so the result is the same on any machine
        unless a time limit is reached first.
    :ivar seed: seed of the cell shuffling.
    """

    time_limit: float = 60.0
    mip_rel_gap: float = 1e-4
    max_moves: int = None
    full_milp_columns: int = 6000
    cell_size: int = 24
    cell_time_limit: float = 5.0
    node_limit: int = 1000
    seed: int = 0


@dataclasses.dataclass
class Result:
    """Outcome of :func:`solve`.

    :ivar assign: ``(N,)`` chosen placement (the current one if nothing
        strictly better was found).
    :ivar status: ``improved``, ``no_improvement`` or ``failed``.
    :ivar method: how ``assign`` was found (``greedy``, ``milp``, ``lns``,
        ``current``).
    :ivar bound: :class:`~.bound.Bound` on loop hosts reaching target.
    """

    assign: np.ndarray
    status: str
    reason: str
    method: str
    score: score_mod.Score
    baseline: score_mod.Score
    bound: bound_mod.Bound
    elapsed: float
    stats: dict


class _Search:
    def __init__(self, problem, opts, capacity, load_cap):
        self.p = problem
        self.opts = opts
        self.capacity = capacity
        self.load_cap = load_cap
        self.best = problem.current.copy()
        self.best_score = score_mod.evaluate(problem, self.best)
        self.method = 'current'
        self.stats = {'cells': 0, 'cells_improved': 0, 'cell_status': {}}

    def offer(self, assign, method):
        if assign is None or not score_mod.is_feasible(
                self.p, assign, self.capacity, self.load_cap):
            return False
        moves = int((assign != self.p.current).sum())
        if self.opts.max_moves is not None and moves > self.opts.max_moves:
            return False
        s = score_mod.evaluate(self.p, assign)
        if s < self.best_score:
            self.best, self.best_score, self.method = assign, s, method
            return True
        return False

    def cell(self, hosts, deadline, method):
        left = deadline - time.monotonic()
        if left <= 0.05:
            return False
        res = milp.solve_cell(
            self.p, self.best, hosts, self.capacity, self.load_cap,
            min(left, self.opts.cell_time_limit), self.opts.mip_rel_gap,
            self.opts.max_moves, self.opts.node_limit)
        st = self.stats['cell_status']
        st[res.status] = st.get(res.status, 0) + 1
        self.stats['cells'] += 1
        improved = self.offer(res.assign, method)
        self.stats['cells_improved'] += int(improved)
        return improved


def _cell_limit(problem, assign, hosts, size, max_columns=8000):
    """Trim ``hosts`` to a cell whose MILP stays small.

    Keeps the first hosts, at most ``size`` of them, while the cell has at
    most ``max_columns`` assignment columns (movable instances x hosts).
    """
    per_host = np.bincount(assign[problem.movable],
                           minlength=problem.n_hosts)
    out, n = [], 0
    for h in hosts:
        if out and (len(out) >= size
                    or (n + per_host[h]) * (len(out) + 1) > max_columns):
            break
        out.append(h)
        n += per_host[h]
    return np.array(out, dtype=int)


def _target_cell(search, size):
    p, best = search.p, search.best
    _, load, count = p.host_usage(best)
    need = p.need
    reached = score_mod.reached_mask(p, load, count)
    short = np.flatnonzero(p.loop & np.isfinite(need) & ~reached
                           & (count > 0))
    short = short[np.argsort(-(load[short] / np.maximum(need[short], 1e-9)))]
    idle_loop = np.flatnonzero(p.loop & np.isfinite(need) & (count == 0))
    idle_loop = idle_loop[np.argsort(need[idle_loop])]
    off = np.flatnonzero(~p.loop & (count > 0))
    spare = np.flatnonzero(reached)
    spare = spare[np.argsort(-(load[spare] - need[spare]))]
    picks = [*short[:2], *off[:3], *idle_loop[:1], *spare]
    if len(short) + len(off) + len(idle_loop) == 0:
        return None
    return _cell_limit(p, best, picks, size)


def _sweep_cells(search, rng, size):
    _, _, count = search.p.host_usage(search.best)
    active = np.flatnonzero(count > 0)
    idle = np.flatnonzero((count == 0) & search.p.loop)
    hosts = rng.permutation(active)
    cells = [hosts[i:i + size - 1] for i in range(0, len(hosts), size - 1)]
    # Each cell also gets an idle loop host, so a cell can open one.
    if len(idle):
        cells = [np.append(c, idle[rng.integers(len(idle))]) for c in cells]
    return [_cell_limit(search.p, search.best, c, size) for c in cells]


def _lns(search, deadline, rng):
    size = search.opts.cell_size
    while time.monotonic() < deadline:
        improved = False
        tc = _target_cell(search, size)
        if tc is not None and len(tc) > 1:
            improved |= search.cell(tc, deadline, 'lns')
        for cell in _sweep_cells(search, rng, size):
            if time.monotonic() >= deadline:
                break
            if len(cell) > 1:
                improved |= search.cell(cell, deadline, 'lns')
        if not improved:
            break


def solve(problem, opts=None):
    """Find a placement strictly better than the current one, if any.

    :param problem: :class:`~.problem.Problem` (validated here).
    :param opts: :class:`Options`.
    :returns: :class:`Result`.
    """
    opts = opts or Options()
    start = time.monotonic()
    deadline = start + opts.time_limit
    problem.validate()
    capacity, load_cap = problem_mod.effective_capacity(problem)
    search = _Search(problem, opts, capacity, load_cap)
    baseline = search.best_score
    stats = search.stats
    if problem.n_instances == 0 or problem.n_hosts == 0:
        b = bound_mod.Bound(0, 0.0, 'lp', 'nothing to place')
        return Result(problem.current.copy(), 'no_improvement',
                      'no instance to place', 'current', baseline, baseline,
                      b, 0.0, stats)
    t0 = time.monotonic()
    search.offer(greedy_mod.greedy(problem, capacity, load_cap,
                                   opts.max_moves), 'greedy')
    stats['greedy_seconds'] = time.monotonic() - t0
    stats['greedy_score'] = search.best_score
    t0 = time.monotonic()
    bnd = bound_mod.upper_bound(problem, capacity, load_cap, opts.max_moves,
                                time_limit=max(opts.time_limit * 0.3, 1.0))
    stats['bound_seconds'] = time.monotonic() - t0
    columns = int(problem.movable.sum()) * problem.n_hosts
    if columns <= opts.full_milp_columns:
        res = milp.solve_cell(
            problem, problem.current, np.arange(problem.n_hosts), capacity,
            load_cap, max(deadline - time.monotonic(), 0.1),
            opts.mip_rel_gap, opts.max_moves, opts.node_limit)
        stats['cell_status'] = {res.status: 1}
        search.offer(res.assign, 'milp')
        stats['milp_status'] = res.status
    else:
        _lns(search, deadline, np.random.default_rng(opts.seed))
    elapsed = time.monotonic() - start
    if search.best_score.strictly_better_than(baseline):
        reason = ('%d of %d loop hosts reach target (bound %d, %s), '
                  '%d active hosts, %d migrations'
                  % (search.best_score.reached, int(problem.loop.sum()),
                     bnd.reached, bnd.method, search.best_score.active,
                     int((search.best != problem.current).sum())))
        return Result(search.best, 'improved', reason, search.method,
                      search.best_score, baseline, bnd, elapsed, stats)
    return Result(problem.current.copy(), 'no_improvement',
                  'no placement strictly better than the current one was '
                  'found (%d of %d loop hosts reach target, bound %d)'
                  % (baseline.reached, int(problem.loop.sum()), bnd.reached),
                  'current', baseline, baseline, bnd, elapsed, stats)
