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
"""Fewest migrations for a placement's hosts at target and active hosts.

Once the solve has chosen how many loop hosts reach their target (``R``)
and which hosts stay active (``S``), which instances stay put is a much
smaller problem than the full placement. With binaries ``x[i, h]`` over a
few candidate hosts ``h`` of ``S`` per movable instance ``i`` (its home if
the home stays active, its host in the incumbent, and hosts of ``S`` drawn
by free room) and ``z[h]`` (``h`` reaches its target)::

    min  sum_{i, h != home(i)} (1 + c[i]) x[i, h]
    s.t. sum_h x[i, h] = 1                               every i
         sum_i d[i, r] x[i, h] <= cap[h, r] - fix[h, r]  h in S, 3 resources
         sum_i l[i] x[i, h] <= lcap[h] - fixload[h]      h in S
         sum_i l[i] x[i, h] >= need'[h] z[h]             h in S
         sum_i x[i, h] >= z[h]                           h in S, unpinned
         sum_h z[h] >= R
         sum_{i, h != home(i)} x[i, h] <= budget         with a move budget

``c`` is the RAM of the instance over the total RAM plus one (``< 1``), so
the count of migrations comes first and their cost breaks ties. Hosts
outside ``S`` get no column: they are emptied. ``S`` is either the
incumbent's active hosts (the incumbent is then a solution) or as many
hosts of each class, the most populated (:func:`populated_hosts`).

The LP relaxation is strong (a transportation problem with side rows): it
is solved first, instances it keeps at home are fixed there and the MILP
runs on the rest. A result is kept only if it scores better than the
incumbent on :class:`~.score.Score`, so hosts at target never drop and
active hosts never grow. Large placements are trimmed in :func:`chunks` of
hosts.

:func:`migration_floor` is the lower bound the benchmarks compare against.
"""

import dataclasses
import time

import numpy as np
from scipy import optimize
from scipy import sparse

from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score as scoring


def migration_floor(problem, assign, same_levels=False):
    """Fewest migrations of any placement with ``assign``'s active hosts.

    A placement with ``A`` active hosts keeps at most the movable instances
    of ``A`` home hosts where they are: every movable instance outside the
    ``A`` most populated hosts (by movable instances now on them) must
    move.

    With ``same_levels``, only placements that also match ``assign`` on
    the levels of :class:`~.score.Score` before migrations are counted:
    when ``assign`` has no active host off the loop, only loop hosts may
    stay active, and when every active host reaches target, only loop
    hosts that can reach it. The floor is then higher (tighter).

    :param problem: :class:`~.problem.Problem`.
    :param assign: ``(N,)`` host index per instance.
    :returns: migrations (int), a lower bound for every such placement.
    """
    _, load, count = problem.host_usage(assign)
    active_hosts = int((count > 0).sum())
    eligible = np.ones(problem.n_hosts, bool)
    if same_levels:
        pinned = np.bincount(problem.current[~problem.movable],
                             minlength=problem.n_hosts) > 0
        reached = scoring.reached_mask(problem, load, count)
        if not (count[~problem.loop] > 0).any():
            eligible &= problem.loop | pinned
        if reached.sum() == active_hosts:
            eligible &= np.isfinite(problem.need) | pinned
    movable_at_home = np.bincount(problem.current[problem.movable],
                                  minlength=problem.n_hosts)
    most_populated = np.sort(movable_at_home[eligible])[::-1][:active_hosts]
    return int(problem.movable.sum() - most_populated.sum())


@dataclasses.dataclass
class TrimResult:
    """Outcome of :func:`trim`.

    :ivar assign: ``(N,)`` placement with fewest migrations found (the
        incumbent when nothing better was found).
    :ivar status: ``optimal``, ``improved`` (a better placement, the MILP
        stopped early), ``unchanged`` or ``failed``.
    :ivar message: what the MILP solver said.
    :ivar columns: candidate ``(instance, host)`` pairs in the MILP.
    """

    assign: np.ndarray
    status: str
    message: str
    columns: int = 0


def host_classes(problem, capacity, load_cap):
    """``(H,)`` class label: hosts with the same room, need and loop status.

    Hosts of one class are interchangeable for the heat and capacity
    levels of the objective (immovable load included), so a placement's
    active hosts of a class may be swapped for others of that class.
    """
    fix_used, fix_load = placement_problem.fixed_usage(problem)
    need = np.where(np.isfinite(problem.need), problem.need - fix_load, -1.0)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    keys = np.column_stack([capacity - fix_used, load_cap - fix_load, need,
                            problem.loop, pinned,
                            np.where(pinned, np.arange(problem.n_hosts),
                                     -1)])
    _, label = np.unique(np.round(keys, 6), axis=0, return_inverse=True)
    return label.ravel()


def populated_hosts(problem, assign, capacity, load_cap, hosts=None):
    """``(H,)`` bool: as many active hosts per class, the most populated.

    For each class of :func:`host_classes`, the hosts active in ``assign``
    are replaced by as many hosts of the class holding the most movable
    instances now (then the most load), so that fewer instances live on
    hosts that are emptied. With ``hosts`` ``(H,)`` bool, only among them.
    """
    _, _, count = problem.host_usage(assign)
    if hosts is None:
        hosts = np.ones(problem.n_hosts, bool)
    label = np.where(hosts, host_classes(problem, capacity, load_cap), -1)
    at_home = np.bincount(problem.current[problem.movable],
                          minlength=problem.n_hosts)
    home_load = np.bincount(problem.current, weights=problem.load,
                            minlength=problem.n_hosts)
    chosen = np.zeros(problem.n_hosts, bool)
    order = np.lexsort((-home_load, -at_home, label))
    order = order[label[order] >= 0]
    active_per_class = np.bincount(label[(count > 0) & hosts],
                                   minlength=label.max() + 1)
    first_of_class = np.searchsorted(label[order], np.arange(
        label.max() + 1))
    for klass, wanted in enumerate(active_per_class):
        start = first_of_class[klass]
        chosen[order[start:start + wanted]] = True
    return chosen


def _candidates(problem, assign, movable_idx, active, extra_hosts, rng,
                free_share):
    """``(P, 2)`` candidate (instance, host) columns, host in ``active``.

    Every instance of ``movable_idx`` gets its home (if it stays active),
    its host in ``assign`` (if active) and ``extra_hosts`` hosts of
    ``active`` drawn with weights growing with their free room
    ``free_share`` ``(H,)``.
    """
    homes, incumbent = problem.current[movable_idx], assign[movable_idx]
    columns = [
        np.column_stack([movable_idx[active[incumbent]],
                         incumbent[active[incumbent]]]),
        np.column_stack([movable_idx[active[homes]], homes[active[homes]]])]
    active_hosts = np.flatnonzero(active)
    draws = min(extra_hosts, len(active_hosts))
    if draws:
        weight = np.maximum(free_share[active_hosts], 0.0) + 0.02
        picks = np.stack([rng.choice(active_hosts, size=draws,
                                     replace=False, p=weight / weight.sum())
                          for _ in range(len(movable_idx))])
        columns.append(np.column_stack([
            np.repeat(movable_idx, draws), picks.ravel()]))
    return np.unique(np.concatenate(columns), axis=0)


# How long (in times the LP relaxation's time) a trimming MILP may search
# for a first solution.
RELAXATION_MULTIPLE = 5.0

# A trimming MILP with at most this many free columns searches until its
# node limit (within the time left) instead: its nodes are cheap, and
# hosts whose loads together barely reach their targets can take HiGHS a
# thousand nodes (15 s at 800 columns) before the first solution.
SMALL_MILP_COLUMNS = 2000


INCUMBENT_OPTIMAL = ('the incumbent has as few migrations as the LP '
                     'relaxation')


def _relaxation(objective, constraints, lower_bounds, upper_bounds,
                time_limit):
    """The LP relaxation, by HiGHS's interior point method and crossover.

    Several times faster than the MILP solver on these transportation-like
    LPs; the crossover returns a vertex, so most assignments are integral.
    """
    matrix = sparse.csr_array(constraints.A)
    row_lower, row_upper = constraints.lb, constraints.ub
    equal = row_lower == row_upper
    below = np.isfinite(row_upper) & ~equal
    above = np.isfinite(row_lower) & ~equal
    return optimize.linprog(
        objective,
        A_ub=sparse.vstack([matrix[below], -matrix[above]]).tocsr(),
        b_ub=np.concatenate([row_upper[below], -row_lower[above]]),
        A_eq=matrix[equal], b_eq=row_lower[equal],
        bounds=np.column_stack([lower_bounds, upper_bounds]),
        method='highs-ipm',
        options={'time_limit': max(float(time_limit), 0.05), 'disp': False})


def _relax_and_fix(objective, constraints, base_lower, upper_bounds, n_x,
                   instance_of, incumbent_column, time_limit, node_limit):
    """Solve the LP relaxation, fix what it settles, then the MILP on the rest.

    Instances whose relaxed assignment is integral are fixed there; the
    others keep only the columns the relaxation used and their incumbent
    host. If that restricted MILP finds nothing, only the instances the
    relaxation keeps at home stay fixed. Each MILP stops after
    ``RELAXATION_MULTIPLE`` times the relaxation's time (at least 1 s):
    one that has found no solution by then gives up instead of spending
    the whole time limit. A MILP with at most ``SMALL_MILP_COLUMNS`` free
    columns stops on its node limit instead, so that whether it finds a
    solution does not depend on how busy the machine is. Without a
    relaxation, the full MILP runs in the time left. No MILP runs when
    the incumbent is already as good as the relaxation.

    :param incumbent_column: ``(n_x,)`` bool, the incumbent's columns.
    :returns: ``(result, message)``: scipy's ``OptimizeResult`` with a
        solution, or None and why there is none; ``message`` is
        ``INCUMBENT_OPTIMAL`` when the relaxation proves the incumbent
        has the fewest migrations.
    """
    started = time.monotonic()
    n_columns = len(objective)
    integrality = np.ones(n_columns)
    options = {'disp': False, 'node_limit': int(node_limit)}
    try:
        relaxed = _relaxation(objective, constraints, base_lower,
                              upper_bounds, time_limit)
        # A MILP that finds no solution in this many times the time of its
        # relaxation is not going to: the rounds stop instead.
        give_up_after = max(RELAXATION_MULTIPLE * (
            time.monotonic() - started), 1.0)
        attempts = []
        if relaxed.status == 0 and relaxed.x is not None:
            if (incumbent_column.sum() == len(np.unique(instance_of))
                    and relaxed.fun >= objective[:n_x][incumbent_column]
                    .sum() - 1e-6):
                return None, INCUMBENT_OPTIMAL
            x = relaxed.x[:n_x]
            whole = x >= 1.0 - 1e-6
            settled = np.zeros(int(instance_of.max()) + 1, bool)
            settled[instance_of[whole]] = True
            lower_bounds = base_lower.copy()
            lower_bounds[:n_x] = whole
            restricted = upper_bounds.copy()
            restricted[:n_x] = np.where(settled[instance_of], whole,
                                        (x > 1e-6) | incumbent_column)
            attempts.append((lower_bounds, restricted))
            # Wider: only the instances the relaxation keeps at home stay
            # fixed; the others keep every candidate.
            at_home = whole & (objective[:n_x] == 0.0)
            lower_bounds = base_lower.copy()
            lower_bounds[:n_x] = at_home
            restricted = upper_bounds.copy()
            stays = np.zeros(len(settled), bool)
            stays[instance_of[at_home]] = True
            restricted[:n_x] = np.where(stays[instance_of], at_home, 1.0)
            attempts.append((lower_bounds, restricted))
        else:
            attempts.append((base_lower, upper_bounds))
            give_up_after = time_limit
        message = 'LP relaxation: %s' % relaxed.message
        for lower_bounds, restricted in attempts:
            time_left = time_limit - (time.monotonic() - started)
            if time_left <= 0.05:
                break
            free = int(((restricted > 0.5) & (lower_bounds < 0.5)).sum())
            result = optimize.milp(
                objective, integrality=integrality,
                bounds=optimize.Bounds(lower_bounds, restricted),
                constraints=constraints,
                options=dict(options, time_limit=(
                    time_left if free <= SMALL_MILP_COLUMNS
                    else min(time_left, give_up_after))))
            if result.x is not None:
                return result, str(result.message)
            message = str(result.message)
    except (ValueError, MemoryError) as exc:
        return None, str(exc)
    return None, message


def trim(problem, assign, capacity, load_cap, time_limit, move_budget=None,
         active=None, hosts=None, extra_hosts=6, node_limit=2000, seed=0):
    """Fewest migrations with ``assign``'s hosts at target and active hosts.

    :param problem: validated :class:`~.problem.Problem`.
    :param assign: ``(N,)`` incumbent placement (feasible).
    :param capacity: ``(H, 3)``; :param load_cap: ``(H,)`` capacity to
        respect (the solver's effective capacity).
    :param time_limit: seconds for the MILP (a cap).
    :param move_budget: most migrations allowed, or None.
    :param active: ``(H,)`` bool, hosts that may stay active (default: those
        active in ``assign``; otherwise as many, of the same classes, see
        :func:`populated_hosts`); at least as many loop hosts as in
        ``assign`` must reach target among them.
    :param hosts: ``(H,)`` bool, the chunk re-solved: only the instances
        on these hosts move, only among them (default: every host).
    :param extra_hosts: candidate hosts per instance besides its home and
        its incumbent host.
    :returns: :class:`TrimResult`; its ``assign`` is never worse than the
        incumbent on any level of :class:`~.score.Score`.
    """
    used, load, count = problem.host_usage(assign)
    incumbent_score = scoring.evaluate(problem, assign)
    if hosts is None:
        hosts = np.ones(problem.n_hosts, bool)
    if active is None:
        active = count > 0
    active = active & hosts
    movable_idx = np.flatnonzero(problem.movable & hosts[assign])
    if len(movable_idx) == 0:
        return TrimResult(assign.copy(), 'unchanged', 'no instance', 0)
    # what the hosts of ``hosts`` give the objective's levels now
    chunk_reached = int((scoring.reached_mask(problem, load, count)
                         & hosts).sum())
    free_share = np.minimum(
        np.min((capacity - used) / np.maximum(capacity, 1e-9), axis=1),
        (load_cap - load) / np.maximum(load_cap, 1e-9))
    pairs = _candidates(problem, assign, movable_idx, active, extra_hosts,
                        np.random.default_rng(seed), free_share)
    instance_of, host_of = pairs[:, 0], pairs[:, 1]
    n_x = len(pairs)
    row_of_instance = np.full(problem.n_instances, -1)
    row_of_instance[movable_idx] = np.arange(len(movable_idx))
    fix_used, fix_load = placement_problem.fixed_usage(problem)
    pinned = np.bincount(problem.current[~problem.movable],
                         minlength=problem.n_hosts) > 0
    active_hosts = np.flatnonzero(active)
    n_active = len(active_hosts)
    host_row = np.full(problem.n_hosts, -1)
    host_row[active_hosts] = np.arange(n_active)
    need = problem.need[active_hosts] - fix_load[active_hosts]
    can_reach = np.isfinite(need)
    # columns: x (n_x), then z[h] (n_active, 0 where unreachable)
    n_columns = n_x + n_active
    z_column = n_x + np.arange(n_active)
    blocks, lower, upper = [], [], []

    def add_rows(rows, cols, values, n_rows, row_lower, row_upper):
        blocks.append(sparse.csr_array((values, (rows, cols)),
                                       shape=(n_rows, n_columns)))
        lower.append(row_lower)
        upper.append(row_upper)

    x_columns = np.arange(n_x)
    add_rows(row_of_instance[instance_of], x_columns, np.ones(n_x),
             len(movable_idx), np.ones(len(movable_idx)),
             np.ones(len(movable_idx)))
    host_rows = host_row[host_of]
    infinite = np.full(n_active, np.inf)
    both = np.arange(n_active)
    for resource in range(3):
        add_rows(host_rows, x_columns, problem.demand[instance_of, resource],
                 n_active, -infinite, capacity[active_hosts, resource]
                 - fix_used[active_hosts, resource])
    loads = problem.load[instance_of]
    add_rows(host_rows, x_columns, loads, n_active, -infinite,
             load_cap[active_hosts] - fix_load[active_hosts])
    # heat: sum l x - need' z >= 0; an unpinned host at target is active
    add_rows(np.concatenate([host_rows, both]),
             np.concatenate([x_columns, z_column]),
             np.concatenate([loads, -np.where(can_reach,
                                              np.maximum(need, 0.0), 0.0)
                             + scoring.EPS]),
             n_active, np.zeros(n_active), infinite)
    add_rows(np.concatenate([host_rows, both]),
             np.concatenate([x_columns, z_column]),
             np.concatenate([np.ones(n_x), -(~pinned[active_hosts])
                             .astype(float)]),
             n_active, np.zeros(n_active), infinite)
    add_rows(np.zeros(n_active, dtype=int), z_column, np.ones(n_active), 1,
             np.array([float(chunk_reached)]), np.array([np.inf]))
    moves = (host_of != problem.current[instance_of]).astype(float)
    if move_budget is not None:
        elsewhere = incumbent_score.migrations - int(
            (assign[movable_idx] != problem.current[movable_idx]).sum())
        add_rows(np.zeros(n_x, dtype=int), x_columns, moves, 1,
                 np.array([-np.inf]),
                 np.array([float(move_budget - elsewhere)]))
    matrix = sparse.vstack(blocks).tocsr()
    objective = np.zeros(n_columns)
    objective[:n_x] = moves * (1.0 + problem.cost[instance_of]
                               / (problem.cost[movable_idx].sum() + 1.0))
    upper_bounds = np.ones(n_columns)
    upper_bounds[z_column] = (can_reach & problem.loop[active_hosts])
    lower_bounds = np.zeros(n_columns)
    constraints = optimize.LinearConstraint(
        matrix, np.concatenate(lower), np.concatenate(upper))
    result, message = _relax_and_fix(
        objective, constraints, lower_bounds, upper_bounds, n_x,
        instance_of, host_of == assign[instance_of], time_limit, node_limit)
    if message == INCUMBENT_OPTIMAL:
        return TrimResult(assign.copy(), 'unchanged', message, n_x)
    if result is None:
        return TrimResult(assign.copy(), 'failed', message, n_x)
    chosen = result.x[:n_x] > 0.5
    trimmed = assign.copy()
    trimmed[instance_of[chosen]] = host_of[chosen]
    placed_once = np.bincount(instance_of[chosen],
                              minlength=problem.n_instances)[movable_idx]
    if (placed_once != 1).any() or not scoring.is_feasible(
            problem, trimmed, capacity, load_cap):
        return TrimResult(assign.copy(), 'failed',
                          'solution violates a constraint', n_x)
    if not scoring.evaluate(problem, trimmed) < incumbent_score:
        return TrimResult(assign.copy(), 'unchanged', str(result.message),
                          n_x)
    return TrimResult(trimmed, 'optimal' if result.status == 0
                      else 'improved', str(result.message), n_x)


def chunks(problem, assign, size, rng):
    """Split the hosts into groups of about ``size`` for :func:`trim`.

    An instance migrated from a host that stays active links that host and
    its host in ``assign``; groups
    are merged along the most frequent links first, up to ``size`` hosts,
    so that most instances can go back home within their group. Links of
    equal frequency are taken in an order drawn from ``rng``.

    :returns: list of ``(H,)`` bool masks, a partition of the hosts.
    """
    n_hosts = problem.n_hosts
    group = np.arange(n_hosts)
    members = {host: [host] for host in range(n_hosts)}
    _, _, count = problem.host_usage(assign)
    moved = (assign != problem.current) & (count[problem.current] > 0)
    pairs, frequency = np.unique(
        np.sort(np.column_stack([problem.current[moved], assign[moved]]),
                axis=1), axis=0, return_counts=True)
    order = np.lexsort((rng.random(len(pairs)), -frequency))
    for first, second in pairs[order]:
        left, right = group[first], group[second]
        if left == right or (len(members[left]) + len(members[right])
                             > size):
            continue
        members[left].extend(members[right])
        group[members[right]] = left
        del members[right]
    masks, current = [], []
    for hosts in sorted(members.values(), key=len, reverse=True):
        if current and len(current) + len(hosts) > size:
            masks.append(current)
            current = []
        current = current + hosts
    masks.append(current)
    result = []
    for hosts in masks:
        mask = np.zeros(n_hosts, bool)
        mask[hosts] = True
        result.append(mask)
    return result


def fewest_migrations(problem, assign, capacity, load_cap, deadline_seconds,
                      move_budget=None, seed=0, chunk_hosts=100,
                      whole_below=3000):
    """Trim ``assign`` on its own active hosts and on the most populated.

    Runs :func:`trim` on the hosts active in ``assign``, then on
    :func:`populated_hosts` (the same number per class, the most populated),
    and keeps the better; when the first finds no solution at all, the
    second is not tried. With more than ``whole_below`` movable instances,
    trims chunk by chunk instead (:func:`chunks` of ``chunk_hosts`` hosts,
    their own active hosts, 4 extra candidate hosts per instance), each
    chunk's result kept when it improves the whole placement.

    :param deadline_seconds: time for all the MILPs (s).
    :returns: :class:`TrimResult` (``columns`` summed over the MILPs).
    """
    started = time.monotonic()
    rng = np.random.default_rng(seed)
    if problem.movable.sum() <= whole_below:
        groups, variants, extra_hosts = [None], ('same', 'populated'), 6
    else:
        groups = chunks(problem, assign, chunk_hosts, rng)
        variants, extra_hosts = ('same',), 4
    best = TrimResult(assign.copy(), 'unchanged', '', 0)
    statuses = set()
    for position, hosts in enumerate(groups):
        time_left = deadline_seconds - (time.monotonic() - started)
        if time_left <= 0.1:
            break
        share = time_left / (len(groups) - position)
        for variant in variants:
            active = None
            if variant == 'populated':
                active = populated_hosts(problem, best.assign, capacity,
                                         load_cap, hosts)
            result = trim(problem, best.assign, capacity, load_cap,
                          share / len(variants), move_budget, active=active,
                          hosts=hosts, extra_hosts=extra_hosts, seed=seed)
            statuses.add(result.status)
            best.columns += result.columns
            if result.status == 'failed':
                # Its MILP gave up without a solution; the other variant
                # is as large and as hard.
                break
            if scoring.evaluate(problem, result.assign) < scoring.evaluate(
                    problem, best.assign):
                best.assign, best.message = result.assign, result.message
    if np.array_equal(best.assign, assign):
        best.status = 'failed' if statuses == {'failed'} else 'unchanged'
    else:
        best.status = 'optimal' if statuses <= {'optimal', 'unchanged'} \
            else 'improved'
    return best
