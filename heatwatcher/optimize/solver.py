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
  hosts), until time runs out or a sweep improves no level before the
  migrations (migrations alone are left to the trimming). A cell stopped
  by its time or node limit proves nothing: the next cells are a quarter
  smaller (down to ``min_cell_size``), and ``stall_cells`` such cells in
  a row without an improvement stop the search.
* Neither runs when the greedy placement is within ``search_gap`` of the
  bound: at most ``floor(search_gap x bound)`` hosts short of it on the
  levels before migrations (hosts at target below the bound, plus active
  hosts beyond those at target, plus active hosts off the loop beyond the
  pinned ones; :func:`_levels_gap`). With the default 1 %, a bound below
  100 hosts allows no gap, so the search stops only at the bound; at 200
  loop hosts it stops one host short of it, where every further host is a
  hard covering problem that the cells rarely solve. The cell search
  stops on the same condition.
* When either stops short of the bound and the hosts the best placement
  keeps active fit in one MILP, they are re-solved together
  (:func:`_consolidate_active`): the problem the next audit will see.
* With a migration budget, the best subset of the unlimited greedy plan's
  migrations (:mod:`~.budget`) competes with the budgeted greedy, and every
  MILP carries the budget as a constraint. Plans are then ranked on the
  harvested heat right after the hosts at target (:mod:`~.score`), and
  the migrations left in the budget at the end move load onto hosts at
  target (:mod:`~.heat_fill`).
* Then :mod:`~.trim` re-solves which instances stay put, with the hosts at
  target and the active hosts of the best placement (or as many of each
  class, the most populated), round after round until a round saves no
  migration, within ``trim_share`` of the time limit. A trimming MILP that
  finds no solution soon after its LP relaxation gives up
  (:func:`~.trim.fewest_migrations`). The time limit is a cap: a solve
  whose search and trimming stop on their own returns early.
* The LP bound of :mod:`~.bound` is computed on the full problem, so the
  result is always reported against it, whatever the cells were.

The outcome is a :class:`Result`; an infeasible or time-limited solve is a
status with a reason, never an exception.
"""

import dataclasses
import time

import numpy as np

from heatwatcher.optimize import bound as lp_bound
from heatwatcher.optimize import budget
from heatwatcher.optimize import greedy
from heatwatcher.optimize import heat_fill
from heatwatcher.optimize import milp
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score as scoring
from heatwatcher.optimize import trim


@dataclasses.dataclass
class Options:
    """Solver settings.

    :ivar time_limit: wall-clock budget for the whole solve (s).
    :ivar mip_rel_gap: relative gap at which a MILP solve stops.
    :ivar max_moves: most migrations in the plan (None: unlimited).
    :ivar full_milp_columns: largest ``movable x hosts`` solved in one MILP.
    :ivar cell_size: hosts per LNS cell at the start.
    :ivar min_cell_size: smallest cell after cells stopped by a limit.
    :ivar stall_cells: cells in a row stopped by a limit without an
        improvement after which the cell search stops.
    :ivar node_limit: branch-and-bound nodes per MILP solve. Solves are
        bounded by this work limit, so the result is the same on any machine
        unless a time limit is reached first.
    :ivar seed: seed of the cell shuffling.
    :ivar search_gap: fraction of the bound on hosts at target: the
        search is skipped or stops once the placement is within
        ``floor(search_gap x bound)`` hosts of it (:func:`_levels_gap`).
    :ivar trim_share: share of ``time_limit`` kept for migration trimming
        (:mod:`~.trim`) after the cell search (10 % after an exact MILP),
        and the most it gets when the search stops early.
    :ivar greedy_share: share of ``time_limit`` after which the greedy
        start stops where it is (:func:`.greedy.greedy`'s ``deadline``).
    """

    time_limit: float = 60.0
    mip_rel_gap: float = 1e-4
    max_moves: int = None
    full_milp_columns: int = 6000
    cell_size: int = 24
    min_cell_size: int = 8
    stall_cells: int = 2
    cell_time_limit: float = 5.0
    node_limit: int = 1000
    seed: int = 0
    search_gap: float = 0.01
    trim_share: float = 0.5
    greedy_share: float = 0.5


@dataclasses.dataclass
class Result:
    """Outcome of :func:`solve`.

    :ivar assign: ``(N,)`` chosen placement (the current one if nothing
        strictly better was found).
    :ivar status: ``improved``, ``no_improvement`` or ``failed``.
    :ivar method: how ``assign`` was found (``greedy``, ``budget``,
        ``milp``, ``lns``, ``current``).
    :ivar bound: :class:`~.bound.Bound` on loop hosts reaching target.
    """

    assign: np.ndarray
    status: str
    reason: str
    method: str
    score: scoring.Score
    baseline: scoring.Score
    bound: lp_bound.Bound
    elapsed: float
    stats: dict


class _Search:
    def __init__(self, problem, options, capacity, load_cap):
        self.problem = problem
        self.options = options
        self.capacity = capacity
        self.load_cap = load_cap
        self.best = problem.current.copy()
        # Under a budget, harvested heat ranks right after hosts at target.
        self.harvested = options.max_moves is not None
        self.best_score = self.baseline = self.evaluate(self.best)
        self.method = 'current'
        self.stats = {'cells': 0, 'cells_improved': 0, 'cell_status': {}}
        self.cell_size = options.cell_size
        self.fruitless_cells = 0

    def offer(self, assign, method):
        if assign is None or not scoring.is_feasible(
                self.problem, assign, self.capacity, self.load_cap):
            return False
        moves = int((assign != self.problem.current).sum())
        max_moves = self.options.max_moves
        if max_moves is not None and moves > max_moves:
            return False
        score = self.evaluate(assign)
        if self.harvested and not score.strictly_better_than(self.baseline):
            # Heat only ranks plans worth making: a placement no better
            # than staying put must not block one that is.
            return False
        if score < self.best_score:
            self.best, self.best_score, self.method = assign, score, method
            return True
        return False

    def evaluate(self, assign):
        return scoring.evaluate(self.problem, assign, self.harvested)

    def cell(self, hosts, deadline, method, time_limit=None):
        """Re-solve ``hosts`` exactly, the rest fixed; True if kept.

        :param time_limit: most seconds for this cell (default
            ``cell_time_limit``), within ``deadline`` in any case.
        """
        time_left = deadline - time.monotonic()
        if time_left <= 0.05:
            return False
        cell_result = milp.solve_cell(
            self.problem, self.best, hosts, self.capacity, self.load_cap,
            min(time_left, time_limit or self.options.cell_time_limit),
            self.options.mip_rel_gap, self.options.max_moves,
            self.options.node_limit, harvested=self.harvested)
        status_counts = self.stats['cell_status']
        status_counts[cell_result.status] = (
            status_counts.get(cell_result.status, 0) + 1)
        self.stats['cells'] += 1
        improved = self.offer(cell_result.assign, method)
        self.stats['cells_improved'] += int(improved)
        stopped = cell_result.status in ('time_limit', 'node_limit')
        if stopped:
            # A cell stopped by a limit proves nothing: the next ones
            # are smaller, so that a sweep ends and can stop the search.
            self.cell_size = max(self.options.min_cell_size,
                                 (self.cell_size * 3) // 4)
        self.fruitless_cells = (self.fruitless_cells + 1
                                if stopped and not improved else 0)
        return improved

    def stalled(self):
        """True after ``stall_cells`` limit-stopped, fruitless cells."""
        return self.fruitless_cells >= self.options.stall_cells


def _cell_limit(problem, assign, hosts, size, max_columns=8000):
    """Trim ``hosts`` to a cell whose MILP stays small.

    Keeps the first hosts, at most ``size`` of them, while the cell has at
    most ``max_columns`` assignment columns (movable instances x hosts).
    """
    per_host = np.bincount(assign[problem.movable],
                           minlength=problem.n_hosts)
    cell, cell_instances = [], 0
    for h in hosts:
        if cell and (len(cell) >= size
                     or ((cell_instances + per_host[h]) * (len(cell) + 1)
                         > max_columns)):
            break
        cell.append(h)
        cell_instances += per_host[h]
    return np.array(cell, dtype=int)


def _target_cell(search, size):
    problem, best = search.problem, search.best
    _, load, count = problem.host_usage(best)
    need = problem.need
    reached = scoring.reached_mask(problem, load, count)
    short = np.flatnonzero(problem.loop & np.isfinite(need) & ~reached
                           & (count > 0))
    short = short[np.argsort(-(load[short] / np.maximum(need[short], 1e-9)))]
    idle_loop = np.flatnonzero(problem.loop & np.isfinite(need)
                               & (count == 0))
    idle_loop = idle_loop[np.argsort(need[idle_loop])]
    off_loop = np.flatnonzero(~problem.loop & (count > 0))
    spare = np.flatnonzero(reached)
    spare = spare[np.argsort(-(load[spare] - need[spare]))]
    picks = [*short[:2], *off_loop[:3], *idle_loop[:1], *spare]
    if len(short) + len(off_loop) + len(idle_loop) == 0:
        return None
    return _cell_limit(problem, best, picks, size)


def _sweep_cells(search, rng):
    """Cells over the active hosts in a random order, one by one.

    Each cell takes the next ``cell_size - 1`` hosts (the size when the
    cell is drawn, which shrinks after cells that stop on a limit) and an
    idle loop host, so that a cell can open one.
    """
    _, _, count = search.problem.host_usage(search.best)
    idle = np.flatnonzero((count == 0) & search.problem.loop)
    hosts = rng.permutation(np.flatnonzero(count > 0))
    start = 0
    while start < len(hosts):
        size = search.cell_size
        cell = hosts[start:start + size - 1]
        start += size - 1
        if len(idle):
            cell = np.append(cell, idle[rng.integers(len(idle))])
        yield _cell_limit(search.problem, search.best, cell, size)


def _lns(search, deadline, rng, bound_reached):
    """Cell search until a sweep improves no level before migrations.

    Migrations alone are left to the trimming, which is cheaper. The
    search also stops once the best placement is within the allowed gap
    of the bound (:func:`_allowed_gap`).
    """
    allowed = _allowed_gap(search.options, bound_reached)
    while time.monotonic() < deadline:
        if _levels_gap(search, bound_reached) <= allowed:
            search.stats['search_stopped'] = (
                'within %d host(s) of the bound' % allowed)
            break
        before = search.best_score
        target_cell = _target_cell(search, search.cell_size)
        if target_cell is not None and len(target_cell) > 1:
            search.cell(target_cell, deadline, 'lns')
        for cell in _sweep_cells(search, rng):
            if (time.monotonic() >= deadline or search.stalled()
                    or _levels_gap(search, bound_reached) <= allowed):
                break
            if len(cell) > 1:
                search.cell(cell, deadline, 'lns')
        if search.stalled():
            search.stats['search_stopped'] = (
                '%d cells in a row stopped on a limit without improving'
                % search.fruitless_cells)
            break
        if not search.best_score.strictly_better_than(before):
            break


def _levels_gap(search, bound_reached):
    """Hosts by which the best placement may fall short of the bound.

    Hosts at target cannot exceed the bound; a placement with that many
    has at least ``max(reached, pinned hosts)`` active hosts and at least
    the pinned off-loop hosts active off the loop. The gap adds up what
    the best placement misses on each of these levels: 0 means no
    placement beats it before the migration levels.
    """
    problem, best_score = search.problem, search.best_score
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    return (max(bound_reached - best_score.reached, 0)
            + max(best_score.active - max(best_score.reached,
                                          int(pinned.sum())), 0)
            + max(best_score.active_off_loop
                  - int((pinned & ~problem.loop).sum()), 0))


def _allowed_gap(options, bound_reached):
    """Hosts of :func:`_levels_gap` at which the search stops."""
    return int(np.floor(options.search_gap * bound_reached + 1e-9))


def _consolidate_active(search, deadline, bound_reached):
    """One MILP over the hosts the best placement keeps active.

    A MILP over every host that stops on its node limit can leave a host
    active that the hosts kept active could absorb. The next audit, which
    sees only those hosts (the released ones are disabled), would find
    that placement and move instances again although nothing changed.
    Solving the same smaller problem here gives that placement now, with
    the time left before ``deadline`` rather than a cell's. Runs only
    while the best placement is short of the bound on the levels
    before migrations and the cell holds every active host.
    """
    if _levels_gap(search, bound_reached) <= _allowed_gap(search.options,
                                                          bound_reached):
        return
    _, _, count = search.problem.host_usage(search.best)
    active = np.flatnonzero(count > 0)
    cell = _cell_limit(search.problem, search.best, active, len(active),
                       max_columns=search.options.full_milp_columns)
    if len(cell) == len(active) and len(cell) > 1:
        search.stats['active_cell'] = search.cell(
            cell, deadline, 'milp', time_limit=deadline - time.monotonic())


def _trim(search, deadline):
    """Trim migrations round after round until a round saves none."""
    stats = search.stats
    stats.update(trim_rounds=0, trim_status=[],
                 migrations_before_trim=search.best_score.migrations)
    while deadline - time.monotonic() > 0.1:
        trimmed = trim.fewest_migrations(
            search.problem, search.best, search.capacity, search.load_cap,
            deadline - time.monotonic(), search.options.max_moves,
            seed=search.options.seed + stats['trim_rounds'])
        stats['trim_rounds'] += 1
        stats['trim_status'].append(trimmed.status)
        before = search.best_score.migrations
        search.offer(trimmed.assign, search.method)
        if search.best_score.migrations >= before:
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
    capacity, load_cap = placement_problem.effective_capacity(problem)
    search = _Search(problem, opts, capacity, load_cap)
    baseline = search.best_score
    stats = search.stats
    if problem.n_instances == 0 or problem.n_hosts == 0:
        bound = lp_bound.Bound(0, 0.0, 'lp', 'nothing to place')
        return Result(problem.current.copy(), 'no_improvement',
                      'no instance to place', 'current', baseline, baseline,
                      bound, 0.0, stats)
    phase_start = time.monotonic()
    greedy_deadline = start + opts.greedy_share * opts.time_limit
    search.offer(greedy.greedy(problem, capacity, load_cap,
                               opts.max_moves, deadline=greedy_deadline,
                               stats=stats), 'greedy')
    if opts.max_moves is not None:
        # The best of the unlimited greedy plan's migrations that fit:
        # the most hosts at target, then the most harvested heat.
        search.offer(budget.best_subset(
            problem, greedy.greedy(problem, capacity, load_cap,
                                   deadline=greedy_deadline, stats=stats),
            opts.max_moves, capacity, load_cap,
            max(opts.time_limit * 0.2, 0.5), harvested=True), 'budget')
    stats['greedy_seconds'] = time.monotonic() - phase_start
    stats['greedy_score'] = search.best_score
    phase_start = time.monotonic()
    bound = lp_bound.upper_bound(problem, capacity, load_cap, opts.max_moves,
                                 time_limit=max(opts.time_limit * 0.3, 1.0))
    stats['bound_seconds'] = time.monotonic() - phase_start
    columns = int(problem.movable.sum()) * problem.n_hosts
    # The exact MILP leaves the trimming of its (small) problem 10 % of the
    # time; the cell search leaves it trim_share.
    search_deadline = deadline - (
        0.1 if columns <= opts.full_milp_columns else opts.trim_share
    ) * opts.time_limit
    gap = _levels_gap(search, bound.reached)
    exact = columns <= opts.full_milp_columns
    if exact and search.harvested:
        # Under a budget the exact MILP also ranks the harvested heat,
        # which the bound says nothing about.
        gap = max(gap, 1)
    if gap == 0:
        stats['search_skipped'] = 'the greedy placement meets the bound'
    elif gap <= _allowed_gap(opts, bound.reached):
        stats['search_skipped'] = (
            'the greedy placement is %d host(s) from the bound, within '
            'the %g %% allowed' % (gap, 100.0 * opts.search_gap))
    elif exact:
        milp_result = milp.solve_cell(
            problem, problem.current, np.arange(problem.n_hosts), capacity,
            load_cap, max(search_deadline - time.monotonic(), 0.1),
            opts.mip_rel_gap, opts.max_moves, opts.node_limit,
            harvested=search.harvested)
        stats['cell_status'] = {milp_result.status: 1}
        search.offer(milp_result.assign, 'milp')
        stats['milp_status'] = milp_result.status
    else:
        _lns(search, search_deadline, np.random.default_rng(opts.seed),
             bound.reached)
    _consolidate_active(search, search_deadline, bound.reached)
    phase_start = time.monotonic()
    if search.best_score.strictly_better_than(baseline):
        # The trimming gets its share, not the time a search that stopped
        # early left over.
        _trim(search, min(deadline, time.monotonic()
                          + max(opts.trim_share, 0.1) * opts.time_limit))
    stats['trim_seconds'] = time.monotonic() - phase_start
    if (opts.max_moves is not None
            and search.best_score.strictly_better_than(baseline)):
        # What the trimming or the search left of the budget goes to heat.
        before = search.best_score.migrations
        if search.offer(heat_fill.fill(problem, search.best, capacity,
                                       load_cap, opts.max_moves),
                        search.method):
            stats['heat_fill_migrations'] = (search.best_score.migrations
                                             - before)
    elapsed = time.monotonic() - start
    stopped = ''
    if stats.get('greedy_stopped'):
        stopped = ('; the greedy start stopped in its %s phase at %g %% of '
                   'the time limit' % (stats['greedy_stopped'],
                                       100.0 * opts.greedy_share))
    if search.best_score.strictly_better_than(baseline):
        reason = ('%d of %d loop hosts reach target (bound %d, %s), '
                  '%d active hosts, %d migrations%s'
                  % (search.best_score.reached, int(problem.loop.sum()),
                     bound.reached, bound.method, search.best_score.active,
                     int((search.best != problem.current).sum()), stopped))
        return Result(search.best, 'improved', reason, search.method,
                      search.best_score, baseline, bound, elapsed, stats)
    return Result(problem.current.copy(), 'no_improvement',
                  'no placement strictly better than the current one was '
                  'found (%d of %d loop hosts reach target, bound %d)%s'
                  % (baseline.reached, int(problem.loop.sum()), bound.reached,
                     stopped),
                  'current', baseline, baseline, bound, elapsed, stats)
