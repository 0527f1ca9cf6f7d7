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
"""

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


def _fill(state, need, order, committed, priority):
    """Fill loop hosts in ``order`` up to their need (phase 1)."""
    problem = state.problem
    movable_idx = np.flatnonzero(problem.movable)
    for h in order:
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
        candidates = movable_idx[
            _sources(state, need, committed, h, movable_idx)]
        while state.load[h] < need[h] - EPS or state.count[h] == 0:
            candidates = candidates[state.fits(candidates, h)]
            if candidates.size == 0 or not state.can_afford(1):
                break
            deficit = need[h] - state.load[h]
            candidate_load = problem.load[candidates]
            finishing = candidate_load >= deficit - EPS
            if finishing.any():
                chosen = np.flatnonzero(finishing)
                key = np.lexsort((
                    priority[state.assign[candidates[chosen]]],
                    candidate_load[chosen]))
                position = chosen[key[0]]
            else:
                room = np.maximum(state.capacity[h] - state.used[h], EPS)
                share = np.max(problem.demand[candidates] / room, axis=1)
                value = candidate_load / np.maximum(share, EPS)
                key = np.lexsort((priority[state.assign[candidates]],
                                  -value))
                position = key[0]
            i = candidates[position]
            source = state.assign[i]
            undo.append((i, source))
            state.move(i, h)
            candidates = np.delete(candidates, position)
            if committed[source]:
                keep = state.assign[candidates] != source
                on_source = ~keep
                keep[on_source] = _sources(state, need, committed, h,
                                           candidates[on_source])
                candidates = candidates[keep]
        if state.load[h] < need[h] - EPS or state.count[h] == 0:
            for i, source in reversed(undo):
                state.move(i, source)
            committed[h] = False


def _empty(state, committed):
    """Empty hosts that are not filled, where their instances fit (phase 2)."""
    problem = state.problem
    donors = np.flatnonzero(~committed & (state.count > 0))
    donors = donors[np.lexsort((state.load[donors], problem.loop[donors]))]
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    emptied = np.zeros(problem.n_hosts, bool)
    for donor in donors:
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


def _undo_moves(state):
    """Send moved instances home where nothing is lost (phase 3)."""
    problem = state.problem
    moved = np.flatnonzero(state.assign != problem.current)
    for i in moved[np.argsort(-problem.cost[moved], kind='stable')]:
        home, here = problem.current[i], state.assign[i]
        if state.count[home] == 0 or not state.fits([i], home)[0]:
            continue
        before = state.reached()[[home, here]]
        state.move(i, home)
        # `home` is active, so going back never opens a host; it must not
        # cost a target on either side.
        if (state.reached()[[home, here]] < before).any():
            state.move(i, here)


def greedy(problem, capacity=None, load_cap=None, max_moves=None,
           start=None):
    """Return an ``(N,)`` assignment built by the heat-aware greedy.

    :param problem: a validated :class:`~.problem.Problem`.
    :param capacity: ``(H, 3)`` capacity to respect (default: effective).
    :param load_cap: ``(H,)`` load cap to respect (default: effective).
    :param max_moves: most migrations allowed (``None``: unlimited).
    :param start: ``(N,)`` assignment to start from (default: current).
    """
    if capacity is None or load_cap is None:
        capacity, load_cap = placement_problem.effective_capacity(problem)
    start = problem.current if start is None else start
    state = Placement(problem, start, capacity, load_cap, max_moves)
    if problem.n_instances == 0:
        return state.assign
    need = problem.need
    committed = np.zeros(problem.n_hosts, bool)
    for _round in range(3):
        order = np.flatnonzero(problem.loop & np.isfinite(need))
        deficit = need[order] - state.load[order]
        order = order[np.lexsort((need[order], deficit))]
        # Lower priority value = taken from first: off-loop hosts, then the
        # loop hosts at the end of the fill order.
        priority = np.zeros(problem.n_hosts)
        priority[order] = len(order) - np.arange(len(order))
        # Surplus of filled hosts is taken last.
        priority[committed] = len(order) + 1
        _fill(state, need, order, committed, priority)
        _empty(state, committed)
        committed |= state.reached()
    _undo_moves(state)
    return state.assign
