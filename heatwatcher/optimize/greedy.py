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

from heatwatcher.optimize import problem as problem_mod
from heatwatcher.optimize import score as score_mod

EPS = score_mod.EPS


class Placement:
    """Mutable placement with incremental host usage and a move budget."""

    def __init__(self, problem, assign, capacity, load_cap, max_moves=None):
        self.p = problem
        self.assign = assign.copy()
        self.capacity = capacity
        self.load_cap = load_cap
        self.used, self.load, self.count = problem.host_usage(self.assign)
        self.max_moves = max_moves
        self.moves = int((self.assign != problem.current).sum())

    def move_delta(self, i, h):
        """Change in the number of migrations if ``i`` moves to ``h``."""
        orig = self.p.current[i]
        return int(h != orig) - int(self.assign[i] != orig)

    def can_afford(self, delta):
        return self.max_moves is None or self.moves + delta <= self.max_moves

    def fits(self, idx, h):
        """``(len(idx),)`` bool: instances ``idx`` each fit on host ``h``."""
        room = self.capacity[h] - self.used[h] + EPS
        lroom = self.load_cap[h] - self.load[h] + EPS
        return (np.all(self.p.demand[idx] <= room, axis=1)
                & (self.p.load[idx] <= lroom))

    def hosts_fitting(self, i, hosts):
        """``(len(hosts),)`` bool: instance ``i`` fits on each of ``hosts``."""
        room = self.capacity[hosts] - self.used[hosts] + EPS
        lroom = self.load_cap[hosts] - self.load[hosts] + EPS
        return (np.all(self.p.demand[i] <= room, axis=1)
                & (self.p.load[i] <= lroom))

    def move(self, i, h):
        src = self.assign[i]
        if src == h:
            return
        self.moves += self.move_delta(i, h)
        d, ld = self.p.demand[i], self.p.load[i]
        self.used[src] -= d
        self.used[h] += d
        self.load[src] -= ld
        self.load[h] += ld
        self.count[src] -= 1
        self.count[h] += 1
        self.assign[i] = h

    def reached(self):
        return score_mod.reached_mask(self.p, self.load, self.count)


def _sources(state, need, committed, h, pool):
    """Instances of ``pool`` that may move to ``h``.

    Instances on hosts not filled yet, and surplus instances of filled hosts
    (those whose host stays at its target without them).
    """
    p = state.p
    src = state.assign[pool]
    free = ~committed[src]
    spare = (committed[src] & (src != h) & (state.count[src] > 1)
             & (state.load[src] - p.load[pool] >= need[src] - EPS))
    return pool[(free | spare) & (src != h)]


def _fill(state, need, order, committed, priority):
    """Fill loop hosts in ``order`` up to their need (phase 1)."""
    p = state.p
    movable_idx = np.flatnonzero(p.movable)
    for h in order:
        if committed[h] or not np.isfinite(need[h]):
            continue
        if state.load[h] >= need[h] - EPS and state.count[h] > 0:
            committed[h] = True
            continue
        src = state.assign[movable_idx]
        free_load = p.load[movable_idx[~committed[src] & (src != h)]].sum()
        surplus = np.maximum(state.load - need, 0.0)[committed].sum()
        if free_load + surplus + state.load[h] < need[h] - EPS:
            continue
        committed[h] = True
        undo = []
        while state.load[h] < need[h] - EPS or state.count[h] == 0:
            cand = _sources(state, need, committed, h, movable_idx)
            cand = cand[state.fits(cand, h)]
            if cand.size == 0 or not state.can_afford(1):
                break
            deficit = need[h] - state.load[h]
            finishing = cand[p.load[cand] >= deficit - EPS]
            if finishing.size:
                key = np.lexsort((priority[state.assign[finishing]],
                                  p.load[finishing]))
                i = finishing[key[0]]
            else:
                room = np.maximum(state.capacity[h] - state.used[h], EPS)
                share = np.max(p.demand[cand] / room, axis=1)
                value = p.load[cand] / np.maximum(share, EPS)
                key = np.lexsort((priority[state.assign[cand]], -value))
                i = cand[key[0]]
            undo.append((i, state.assign[i]))
            state.move(i, h)
        if state.load[h] < need[h] - EPS or state.count[h] == 0:
            for i, src in reversed(undo):
                state.move(i, src)
            committed[h] = False


def _empty(state, committed):
    """Empty hosts that are not filled, where their instances fit (phase 2)."""
    p = state.p
    donors = np.flatnonzero(~committed & (state.count > 0))
    donors = donors[np.lexsort((state.load[donors], p.loop[donors]))]
    pinned = np.bincount(p.current[~p.movable], minlength=p.n_hosts) > 0
    emptied = np.zeros(p.n_hosts, bool)
    for d in donors:
        if pinned[d]:
            continue
        insts = np.flatnonzero(state.assign == d)
        insts = insts[np.argsort(-p.demand[insts, 0], kind='stable')]
        if not state.can_afford(sum(state.move_delta(i, -1) for i in insts)):
            continue
        undo = []
        for i in insts:
            dests = np.flatnonzero((state.count > 0) & ~emptied)
            dests = dests[dests != d]
            if dests.size == 0:
                break
            dests = dests[state.hosts_fitting(i, dests)]
            if dests.size == 0:
                break
            unfilled_loop = p.loop[dests] & ~committed[dests]
            # fullest unfilled loop host first, then filled hosts, fullest
            key = np.lexsort((-state.load[dests], ~committed[dests],
                              ~unfilled_loop))
            dest = dests[key[0]]
            undo.append((i, d))
            state.move(i, dest)
        if state.count[d] > 0:
            for i, src in reversed(undo):
                state.move(i, src)
        else:
            emptied[d] = True
    return emptied


def _undo_moves(state):
    """Send moved instances home where nothing is lost (phase 3)."""
    p = state.p
    moved = np.flatnonzero(state.assign != p.current)
    for i in moved[np.argsort(-p.cost[moved], kind='stable')]:
        home, here = p.current[i], state.assign[i]
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
        capacity, load_cap = problem_mod.effective_capacity(problem)
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
