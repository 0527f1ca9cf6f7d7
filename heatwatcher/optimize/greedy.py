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
"""Heat-aware greedy placement: the fallback and the start of the search.

1. *Fill*: loop hosts, those closest to their target first, keep their own
   instances and take more from hosts not yet filled (off-loop hosts first,
   then the loop hosts furthest from target), preferring the instance that
   finishes the host with the least overshoot, else the one bringing the most
   load per share of the room it takes.
2. *Empty*: hosts left below target are emptied where their instances fit
   elsewhere, off-loop hosts first, the lightest first; instances go to the
   fullest unfilled loop host that has room, then to filled hosts.
3. *Undo*: moves whose instance can go back to its own host without losing a
   target or an emptied host are undone, most expensive first.

Everything works on a :class:`Placement` state with ``O(N)`` numpy steps.

With a ``deadline``, each phase stops between two hosts (or two moves)
once it has passed: every step leaves a valid placement, so what was done
so far is returned, and ``stats['greedy_stopped']`` names the phase.
"""

import time

import numpy as np

from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score as scoring

EPS = scoring.EPS


class Placement:
    """Mutable placement with incremental host usage and a move budget."""

    def __init__(self, problem, assign, capacity, load_cap, max_moves=None):
        self.problem = problem
        self.assign = assign.copy()
        self.capacity = capacity
        self.load_cap = load_cap
        self.used, self.load, self.count = problem.host_usage(self.assign)
        self.max_moves = max_moves
        self.moves = int((self.assign != problem.current).sum())

    def move_delta(self, i, h):
        """Change in the number of migrations if ``i`` moves to ``h``."""
        orig = self.problem.current[i]
        return int(h != orig) - int(self.assign[i] != orig)

    def can_afford(self, delta):
        return self.max_moves is None or self.moves + delta <= self.max_moves

    def fits(self, idx, h):
        """``(len(idx),)`` bool: instances ``idx`` each fit on host ``h``."""
        room = self.capacity[h] - self.used[h] + EPS
        load_room = self.load_cap[h] - self.load[h] + EPS
        return (np.all(self.problem.demand[idx] <= room, axis=1)
                & (self.problem.load[idx] <= load_room))

    def hosts_fitting(self, i, hosts):
        """``(len(hosts),)`` bool: instance ``i`` fits on each of ``hosts``."""
        room = self.capacity[hosts] - self.used[hosts] + EPS
        load_room = self.load_cap[hosts] - self.load[hosts] + EPS
        return (np.all(self.problem.demand[i] <= room, axis=1)
                & (self.problem.load[i] <= load_room))

    def move(self, i, h):
        source = self.assign[i]
        if source == h:
            return
        self.moves += self.move_delta(i, h)
        demand, load = self.problem.demand[i], self.problem.load[i]
        self.used[source] -= demand
        self.used[h] += demand
        self.load[source] -= load
        self.load[h] += load
        self.count[source] -= 1
        self.count[h] += 1
        self.assign[i] = h

    def reached(self):
        return scoring.reached_mask(self.problem, self.load, self.count)


def _sources(state, need, committed, h, pool):
    """``(len(pool),)`` bool: instances of ``pool`` that may move to ``h``.

    Instances on hosts not filled yet, and surplus instances of filled hosts
    (those whose host stays at its target without them).
    """
    problem = state.problem
    source_hosts = state.assign[pool]
    free = ~committed[source_hosts]
    spare = (committed[source_hosts] & (source_hosts != h)
             & (state.count[source_hosts] > 1)
             & (state.load[source_hosts] - problem.load[pool]
                >= need[source_hosts] - EPS))
    return (free | spare) & (source_hosts != h)


class _Candidates:
    """Instances that may move to one host, with their data side by side.

    Within one host's fill their sources do not change (an instance that
    moves leaves the candidates), so loads, demands and source priorities
    are gathered once. Candidates that drop out are only marked (``alive``)
    until fewer than half are left, then the arrays are compacted; their
    order never changes.
    """

    def __init__(self, state, index, priority):
        problem = state.problem
        self.index = index
        self.load = problem.load[index]
        self.demand = problem.demand[index]
        self.source = state.assign[index]
        self.priority = priority[self.source]
        self.alive = np.ones(index.size, bool)
        self.size = index.size

    def keep(self, mask):
        """Keep the candidates where ``mask`` (over all positions) holds."""
        self.alive &= mask
        self.size = int(np.count_nonzero(self.alive))
        if self.size < self.alive.size // 2:
            alive = self.alive
            self.index, self.load = self.index[alive], self.load[alive]
            self.demand, self.source = self.demand[alive], self.source[alive]
            self.priority = self.priority[alive]
            self.alive = np.ones(self.size, bool)

    def fit(self, state, h):
        """Bool over all positions: the candidate fits on host ``h`` now."""
        room = state.capacity[h] - state.used[h] + EPS
        fits = self.load <= state.load_cap[h] - state.load[h] + EPS
        for resource in range(self.demand.shape[1]):
            fits &= self.demand[:, resource] <= room[resource]
        return fits

    def _first_best(self, values, among):
        """Position of the least ``values`` within ``among``.

        Ties: the source's lower priority, then the first position.
        """
        least = values[among].min()
        tied = np.flatnonzero(among & (values == least))
        if tied.size == 1:
            return tied[0]
        return tied[np.argmin(self.priority[tied])]

    def best(self, deficit, room):
        """Position of the instance to move next into a host.

        The one that finishes the host (load at least ``deficit``) with the
        least load; else the one bringing the most load per share of the
        ``(3,)`` ``room`` it takes. Ties: the source's lower priority, then
        the first position.
        """
        finishing = self.alive & (self.load >= deficit - EPS)
        if finishing.any():
            return self._first_best(self.load, finishing)
        share = self.demand[:, 0] / room[0]
        for resource in range(1, self.demand.shape[1]):
            share = np.maximum(share, self.demand[:, resource]
                               / room[resource])
        value = self.load / np.maximum(share, EPS)
        return self._first_best(-value, self.alive)


def _late(deadline):
    return deadline is not None and time.monotonic() >= deadline


def _fill(state, need, order, committed, priority, deadline=None):
    """Fill loop hosts in ``order`` up to their need (phase 1).

    :returns: False if ``deadline`` stopped it.
    """
    problem = state.problem
    movable_idx = np.flatnonzero(problem.movable)
    for h in order:
        if _late(deadline):
            return False
        if committed[h] or not np.isfinite(need[h]):
            continue
        if state.load[h] >= need[h] - EPS and state.count[h] > 0:
            committed[h] = True
            continue
        source_hosts = state.assign[movable_idx]
        free_load = problem.load[
            movable_idx[~committed[source_hosts] & (source_hosts != h)]].sum()
        surplus = np.maximum(state.load - need, 0.0)[committed].sum()
        if free_load + surplus + state.load[h] < need[h] - EPS:
            continue
        committed[h] = True
        undo = []
        # Within this loop only ``h`` fills and its sources empty, so the
        # candidates only shrink: they are found once, then the instances
        # of the last source are checked again after each move.
        pool = _Candidates(state, movable_idx[
            _sources(state, need, committed, h, movable_idx)], priority)
        while state.load[h] < need[h] - EPS or state.count[h] == 0:
            pool.keep(pool.fit(state, h))
            if pool.size == 0 or not state.can_afford(1):
                break
            position = pool.best(need[h] - state.load[h],
                                 np.maximum(state.capacity[h]
                                            - state.used[h], EPS))
            i, source = pool.index[position], pool.source[position]
            undo.append((i, source))
            state.move(i, h)
            keep = np.ones(pool.alive.size, bool)
            keep[position] = False
            if committed[source]:
                on_source = pool.alive & (pool.source == source)
                on_source[position] = False
                keep[on_source] = _sources(state, need, committed, h,
                                           pool.index[on_source])
            pool.keep(keep)
        if state.load[h] < need[h] - EPS or state.count[h] == 0:
            for i, source in reversed(undo):
                state.move(i, source)
            committed[h] = False
    return True


def _empty(state, committed, deadline=None):
    """Empty hosts that are not filled, where their instances fit (phase 2).

    :returns: ``(H,)`` bool, hosts emptied, or None if ``deadline`` stopped
        it.
    """
    problem = state.problem
    donors = np.flatnonzero(~committed & (state.count > 0))
    donors = donors[np.lexsort((state.load[donors], problem.loop[donors]))]
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    emptied = np.zeros(problem.n_hosts, bool)
    for donor in donors:
        if _late(deadline):
            return None
        if pinned[donor]:
            continue
        instances = np.flatnonzero(state.assign == donor)
        instances = instances[np.argsort(-problem.demand[instances, 0],
                                         kind='stable')]
        if not state.can_afford(sum(state.move_delta(i, -1)
                                    for i in instances)):
            continue
        undo = []
        for i in instances:
            destinations = np.flatnonzero((state.count > 0) & ~emptied)
            destinations = destinations[destinations != donor]
            if destinations.size == 0:
                break
            destinations = destinations[
                state.hosts_fitting(i, destinations)]
            if destinations.size == 0:
                break
            unfilled_loop = (problem.loop[destinations]
                             & ~committed[destinations])
            # fullest unfilled loop host first, then filled hosts, fullest
            key = np.lexsort((-state.load[destinations],
                              ~committed[destinations], ~unfilled_loop))
            destination = destinations[key[0]]
            undo.append((i, donor))
            state.move(i, destination)
        if state.count[donor] > 0:
            for i, source in reversed(undo):
                state.move(i, source)
        else:
            emptied[donor] = True
    return emptied


def _undo_moves(state, deadline=None):
    """Send moved instances home where nothing is lost (phase 3).

    :returns: False if ``deadline`` stopped it.
    """
    problem = state.problem
    need = problem.need

    def reached(hosts):   # score.reached_mask of ``hosts`` only
        return (problem.loop[hosts] & (state.count[hosts] > 0)
                & (state.load[hosts] >= need[hosts] - EPS))

    moved = np.flatnonzero(state.assign != problem.current)
    for i in moved[np.argsort(-problem.cost[moved], kind='stable')]:
        if _late(deadline):
            return False
        home, here = problem.current[i], state.assign[i]
        if state.count[home] == 0 or not state.fits([i], home)[0]:
            continue
        pair = np.array([home, here])
        before = reached(pair)
        state.move(i, home)
        # `home` is active, so going back never opens a host; it must not
        # cost a target on either side.
        if (reached(pair) < before).any():
            state.move(i, here)
    return True


def greedy(problem, capacity=None, load_cap=None, max_moves=None,
           start=None, deadline=None, stats=None):
    """Return an ``(N,)`` assignment built by the heat-aware greedy.

    :param problem: a validated :class:`~.problem.Problem`.
    :param capacity: ``(H, 3)`` capacity to respect (default: effective).
    :param load_cap: ``(H,)`` load cap to respect (default: effective).
    :param max_moves: most migrations allowed (``None``: unlimited).
    :param start: ``(N,)`` assignment to start from (default: current).
    :param deadline: ``time.monotonic()`` value after which the phases
        stop (None: none); the placement reached so far is returned.
    :param stats: dict that gets ``greedy_stopped`` (``'fill'``,
        ``'empty'`` or ``'undo'``, round included) when the deadline
        stopped a phase.
    """
    if capacity is None or load_cap is None:
        capacity, load_cap = placement_problem.effective_capacity(problem)
    start = problem.current if start is None else start
    state = Placement(problem, start, capacity, load_cap, max_moves)
    if problem.n_instances == 0:
        return state.assign
    need = problem.need
    committed = np.zeros(problem.n_hosts, bool)
    stopped = None
    for round_number in range(3):
        order = np.flatnonzero(problem.loop & np.isfinite(need))
        deficit = need[order] - state.load[order]
        order = order[np.lexsort((need[order], deficit))]
        # Lower priority value = taken from first: off-loop hosts, then the
        # loop hosts at the end of the fill order.
        priority = np.zeros(problem.n_hosts)
        priority[order] = len(order) - np.arange(len(order))
        # Surplus of filled hosts is taken last.
        priority[committed] = len(order) + 1
        if not _fill(state, need, order, committed, priority, deadline):
            stopped = 'fill (round %d)' % (round_number + 1)
            break
        if _empty(state, committed, deadline) is None:
            stopped = 'empty (round %d)' % (round_number + 1)
            break
        committed |= state.reached()
    if not _undo_moves(state, deadline) and stopped is None:
        stopped = 'undo'
    if stopped is not None and stats is not None:
        stats['greedy_stopped'] = stopped
    return state.assign
