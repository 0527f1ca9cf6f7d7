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

import itertools
import time
import unittest
from unittest import mock

import numpy as np

from heatwatcher import exception
from heatwatcher.optimize import bound
from heatwatcher.optimize import greedy
from heatwatcher.optimize import milp
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from heatwatcher.optimize import solver
from tests.unit import helpers

# 4 hosts of 16 cores, 100 W idle, 350 W peak: 15.625 W per busy core.
# Target 200 W: 6.4 busy cores, i.e. two of the 3.4-core instances.
HOST = helpers.HOST


def four_by_four(loop=(True, True, True, True)):
    hosts = [dict(HOST, loop=flag) for flag in loop]
    insts = [dict(host=k, vcpus=4, load=3.4, ram=4096) for k in range(4)]
    return helpers.make_problem(hosts, insts)


def brute_force(p):
    cap, lcap = placement_problem.effective_capacity(p)
    best = None
    mov = np.flatnonzero(p.movable)
    for combo in itertools.product(range(p.n_hosts), repeat=len(mov)):
        a = p.current.copy()
        a[mov] = combo
        if score.is_feasible(p, a, cap, lcap):
            s = score.evaluate(p, a)
            if best is None or s < best:
                best = s
    return best


class TestKnownOptima(unittest.TestCase):

    def test_four_hosts_two_reach_target_two_emptied(self):
        p = four_by_four()
        res = solver.solve(p, solver.Options(time_limit=20))
        self.assertEqual('improved', res.status)
        self.assertEqual(2, res.score.reached)
        self.assertEqual(2, res.score.active)
        self.assertEqual(2, int((res.assign != p.current).sum()))
        counts = np.bincount(res.assign, minlength=4)
        self.assertEqual([0, 0, 2, 2], sorted(counts))
        self.assertEqual(2, res.bound.reached)

    def test_off_loop_hosts_are_emptied_first(self):
        p = four_by_four(loop=(True, True, False, False))
        res = solver.solve(p, solver.Options(time_limit=20))
        self.assertEqual([2, 2, 0, 0], list(np.bincount(res.assign,
                                                        minlength=4)))
        self.assertEqual(0, res.score.active_off_loop)

    def test_no_plan_when_already_optimal(self):
        p = four_by_four()
        p.current = np.array([0, 0, 1, 1])
        res = solver.solve(p, solver.Options(time_limit=20))
        self.assertEqual('no_improvement', res.status)
        np.testing.assert_array_equal(p.current, res.assign)

    def test_max_migrations_is_honoured(self):
        p = four_by_four()
        res = solver.solve(p, solver.Options(time_limit=20, max_moves=1))
        self.assertEqual(1, int((res.assign != p.current).sum()))
        self.assertEqual(1, res.score.reached)
        self.assertLessEqual(res.bound.reached, 2)
        self.assertGreaterEqual(res.bound.reached, 1)

    def test_immovable_instances_stay_and_use_capacity(self):
        p = four_by_four()
        p.movable[:] = [False, True, True, True]
        p.capacity[0, 0] = 4.0  # host 0 is full with its pinned instance
        res = solver.solve(p, solver.Options(time_limit=20))
        self.assertEqual(0, res.assign[0])
        self.assertEqual(1, int((res.assign == 0).sum()))
        self.assertEqual(1, res.score.reached)  # hosts 1-3 share 3 loads

    def test_capacity_is_respected(self):
        p = four_by_four()
        p.capacity[:, 1] = 6000.0  # RAM: one 4096 MB instance per host
        res = solver.solve(p, solver.Options(time_limit=20))
        self.assertEqual('no_improvement', res.status)
        self.assertEqual(0, res.bound.reached)

    def test_no_instances_is_an_empty_result(self):
        p = helpers.make_problem([HOST, HOST], [])
        res = solver.solve(p)
        self.assertEqual('no_improvement', res.status)
        self.assertEqual(0, len(res.assign))

    def test_bad_arrays_are_rejected_with_the_field(self):
        p = four_by_four()
        p.load[2] = -1.0
        with self.assertRaisesRegex(exception.InvalidProblem,
                                    r'load\[2\] is -1.0'):
            solver.solve(p)
        p = four_by_four()
        p.current = np.array([0, 1, 2, 7])
        with self.assertRaisesRegex(exception.InvalidProblem, 'outside'):
            solver.solve(p)


class TestAgainstBruteForce(unittest.TestCase):

    def test_milp_is_exact_on_small_random_problems(self):
        rng = np.random.default_rng(7)
        for _ in range(12):
            p = helpers.random_problem(rng, 3, 6)
            res = solver.solve(p, solver.Options(time_limit=20,
                                                 mip_rel_gap=0.0))
            best = brute_force(p)
            expected = best if best.strictly_better_than(
                score.evaluate(p, p.current)) else score.evaluate(
                    p, p.current)
            self.assertEqual(expected, res.score)
            self.assertLessEqual(res.score.reached, res.bound.reached)

    def test_lns_cells_keep_plans_feasible_and_no_worse_than_greedy(self):
        rng = np.random.default_rng(11)
        for _ in range(3):
            p = helpers.random_problem(rng, 12, 60)
            cap, lcap = placement_problem.effective_capacity(p)
            g = score.evaluate(p, greedy.greedy(p, cap, lcap))
            res = solver.solve(p, solver.Options(
                time_limit=20, full_milp_columns=0, cell_size=5))
            self.assertTrue(score.is_feasible(p, res.assign, cap, lcap))
            self.assertLessEqual(res.score, min(g, res.baseline))
            self.assertLessEqual(res.score.reached, res.bound.reached)
            self.assertIn(res.method, ('greedy', 'lns', 'current'))


class TestBound(unittest.TestCase):

    def test_bound_is_valid_on_random_problems(self):
        rng = np.random.default_rng(3)
        for _ in range(10):
            p = helpers.random_problem(rng, 3, 6)
            b = bound.upper_bound(p)
            self.assertEqual('lp', b.method)
            self.assertGreaterEqual(b.reached, brute_force(p).reached)

    def test_load_sum_fallback_is_valid(self):
        p = four_by_four()
        old = bound.MAX_LP_COLUMNS
        bound.MAX_LP_COLUMNS = 0
        try:
            b = bound.upper_bound(p)
        finally:
            bound.MAX_LP_COLUMNS = old
        self.assertEqual('load_sum', b.method)
        self.assertEqual(2, b.reached)  # 13.6 cores cover two 6.4 needs


class TestSearchGap(unittest.TestCase):
    """No cell search once the greedy start is within the allowed gap."""

    def cells_run(self, search_gap_hosts):
        """Cells solved with a bound one host above the greedy start."""
        rng = np.random.default_rng(11)
        problem = helpers.random_problem(rng, 40, 200)
        capacity, load_cap = placement_problem.effective_capacity(problem)
        start = score.evaluate(problem, greedy.greedy(problem, capacity,
                                                      load_cap))
        search = mock.Mock(problem=problem, best_score=start)
        bound_reached = start.reached + 1
        gap = solver._levels_gap(search, bound_reached)
        self.assertGreaterEqual(gap, 1)
        cells = []

        def solve_cell(problem, assign, hosts, *args, **kwargs):
            cells.append(len(hosts))
            return milp.CellResult('optimal', None, 'mocked')

        mocked_bound = bound.Bound(bound_reached, float(bound_reached),
                                   'lp', 'mocked')
        with mock.patch.object(solver.milp, 'solve_cell', solve_cell), \
                mock.patch.object(solver.lp_bound, 'upper_bound',
                                  return_value=mocked_bound):
            result = solver.solve(problem, solver.Options(
                time_limit=600, full_milp_columns=0, cell_size=12,
                search_gap=(gap + search_gap_hosts) / bound_reached))
        return cells, result

    def test_search_skipped_within_the_gap(self):
        cells, result = self.cells_run(0)
        self.assertEqual([], cells)
        self.assertIn('within the', result.stats['search_skipped'])

    def test_search_runs_outside_the_gap(self):
        cells, result = self.cells_run(-1)
        self.assertGreater(len(cells), 0)
        self.assertNotIn('search_skipped', result.stats)

    def test_no_gap_allowed_below_100_hosts_at_the_default(self):
        self.assertEqual(0, solver._allowed_gap(solver.Options(), 99))
        self.assertEqual(1, solver._allowed_gap(solver.Options(), 100))
        self.assertEqual(7, solver._allowed_gap(solver.Options(), 763))


class TestActiveCell(unittest.TestCase):
    """After a full MILP stopped on its limit, one over the active hosts.

    That is the problem the next audit would solve.
    """

    def test_hosts_left_active_by_a_stopped_milp_are_consolidated(self):
        off_loop = dict(vcpus=64, cores=16, idle=100.0, peak=350.0,
                        loop=False, target=0.0)
        problem = helpers.make_problem([off_loop] * 4, [
            dict(host=host, vcpus=2, load=0.5) for host in (0, 1, 2)])
        real_solve_cell = milp.solve_cell
        cells = []

        def solve_cell(problem, assign, hosts, *args, **kwargs):
            cells.append(sorted(hosts))
            if len(hosts) == problem.n_hosts:
                return milp.CellResult('node_limit', None, 'mocked')
            return real_solve_cell(problem, assign, hosts, *args, **kwargs)

        with mock.patch.object(solver.milp, 'solve_cell', solve_cell), \
                mock.patch.object(solver.greedy, 'greedy',
                                  return_value=problem.current.copy()):
            result = solver.solve(problem, solver.Options(time_limit=60))
        self.assertEqual([[0, 1, 2, 3], [0, 1, 2]], cells)
        self.assertTrue(result.stats['active_cell'])
        self.assertEqual(('improved', 1), (result.status,
                                           result.score.active))


class TestStalledSearch(unittest.TestCase):
    """The cell search stops when cells stop on a limit and find nothing."""

    def solve_with_cells(self, status, **options):
        rng = np.random.default_rng(11)
        problem = helpers.random_problem(rng, 40, 200)
        sizes = []

        def solve_cell(problem, assign, hosts, *args, **kwargs):
            sizes.append(len(hosts))
            return milp.CellResult(status, None, 'mocked')

        unreachable = bound.Bound(problem.n_hosts, float(problem.n_hosts),
                                  'lp', 'mocked')
        with mock.patch.object(solver.milp, 'solve_cell', solve_cell), \
                mock.patch.object(solver.lp_bound, 'upper_bound',
                                  return_value=unreachable):
            result = solver.solve(problem, solver.Options(
                time_limit=600, full_milp_columns=0, cell_size=12,
                **options))
        return result, sizes

    def test_stops_after_cells_stopped_by_a_limit(self):
        result, sizes = self.solve_with_cells('time_limit', stall_cells=3)
        self.assertEqual(3, len(sizes))
        self.assertIn('search_stopped', result.stats)

    def test_cells_shrink_after_a_limit(self):
        _, sizes = self.solve_with_cells('node_limit', stall_cells=3,
                                         min_cell_size=8)
        # the target cell at 12 hosts, then sweep cells of size - 1 active
        # hosts (no idle loop host to add here) at sizes 9, then 8 (min)
        self.assertEqual([12, 8, 7], sizes)

    def test_cells_that_prove_optimality_end_with_the_sweep(self):
        result, sizes = self.solve_with_cells('optimal', stall_cells=1)
        self.assertNotIn('search_stopped', result.stats)
        # one target cell, then every cell of one sweep, none smaller
        self.assertGreater(len(sizes), 2)
        self.assertEqual({11}, set(sizes[1:-1]))


class TestGreedyShare(unittest.TestCase):

    def test_the_greedy_start_stops_at_its_share_and_the_reason_says_so(self):
        rng = np.random.default_rng(11)
        problem = helpers.random_problem(rng, 40, 200)
        offered = []
        real_greedy = greedy.greedy

        def timed_greedy(*args, **kwargs):
            offered.append(kwargs['deadline'])
            return real_greedy(*args, **kwargs)

        with mock.patch.object(solver.greedy, 'greedy', timed_greedy):
            result = solver.solve(problem, solver.Options(
                time_limit=30, greedy_share=0.0, trim_share=0.0))
        self.assertEqual(1, len(offered))
        self.assertLessEqual(offered[0], time.monotonic() - result.elapsed
                             + 0.5)
        self.assertEqual('fill (round 1)', result.stats['greedy_stopped'])
        self.assertIn('; the greedy start stopped in its fill (round 1) '
                      'phase at 0 % of the time limit', result.reason)
