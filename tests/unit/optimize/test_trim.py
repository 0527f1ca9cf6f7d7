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
import unittest
from unittest import mock

import numpy as np
from scipy import optimize

from heatwatcher.optimize import budget
from heatwatcher.optimize import greedy
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from heatwatcher.optimize import solver
from heatwatcher.optimize import trim
from tests.unit import helpers

# 16 cores, 100 W idle, 350 W peak: a 200 W target needs 6.4 busy cores,
# two of the 3.4-core instances.
HOST, instance = helpers.HOST, helpers.instance


def three_hosts():
    """Host 2 holds two instances (at target), hosts 0 and 1 one each."""
    return helpers.make_problem([HOST] * 3, [instance(0), instance(1),
                                             instance(2), instance(2)])


class TestMigrationFloor(unittest.TestCase):

    def test_instances_outside_the_most_populated_active_hosts(self):
        hosts = [HOST, HOST, dict(HOST, loop=False), HOST]
        problem = helpers.make_problem(
            hosts, [instance(0), instance(1), instance(2), instance(2),
                    instance(2), instance(3), instance(3)])
        # two active hosts: at best hosts 2 (3) and 3 (2) keep theirs
        plan = np.array([0, 0, 1, 1, 1, 1, 1])
        self.assertEqual(2, trim.migration_floor(problem, plan))
        # same levels: no active host off the loop, so host 2 cannot stay
        self.assertEqual(4, trim.migration_floor(problem, plan,
                                                 same_levels=True))

    def test_immovable_instances_do_not_count(self):
        problem = three_hosts()
        problem.movable[:] = [True, True, False, False]
        plan = np.array([1, 1, 2, 2])
        # two active hosts: hosts 0 and 1 (one movable each) could stay
        self.assertEqual(0, trim.migration_floor(problem, plan))


class TestTrim(unittest.TestCase):

    def test_needless_moves_go_home(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        plan = np.array([1, 0, 0, 1])  # 4 moves; 2 are enough
        result = trim.trim(problem, plan, capacity, load_cap, 10.0)
        trimmed = score.evaluate(problem, result.assign)
        self.assertEqual('optimal', result.status)
        self.assertEqual(2, trimmed.migrations)
        self.assertEqual((2, 2), (trimmed.reached, trimmed.active))
        self.assertEqual([0, 1], sorted(set(result.assign)))

    def test_populated_hosts_of_a_class_are_kept_active(self):
        problem = three_hosts()
        capacity, load_cap = placement_problem.effective_capacity(problem)
        plan = np.array([0, 1, 0, 1])  # empties host 2, the fullest
        populated = trim.populated_hosts(problem, plan, capacity, load_cap)
        self.assertEqual([True, False, True], list(populated))
        result = trim.fewest_migrations(problem, plan, capacity, load_cap,
                                        10.0)
        trimmed = score.evaluate(problem, result.assign)
        self.assertEqual((2, 2, 1), (trimmed.reached, trimmed.active,
                                     trimmed.migrations))
        self.assertEqual([0, 0, 2, 2], list(result.assign))

    def test_a_class_keeps_its_number_of_active_hosts(self):
        big = dict(HOST, cores=32, vcpus=128, target=300.0)
        problem = helpers.make_problem(
            [HOST, HOST, big, big],
            [instance(0), instance(1), instance(1), instance(2),
             instance(3), instance(3), instance(3)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        plan = np.array([0, 0, 0, 2, 2, 2, 2])
        self.assertEqual([False, True, False, True], list(
            trim.populated_hosts(problem, plan, capacity, load_cap)))

    def test_never_worse_than_the_incumbent(self):
        rng = np.random.default_rng(5)
        for _ in range(5):
            problem = helpers.random_problem(rng, 8, 30)
            capacity, load_cap = placement_problem.effective_capacity(
                problem)
            plan = greedy.greedy(problem, capacity, load_cap)
            result = trim.fewest_migrations(problem, plan, capacity,
                                            load_cap, 10.0)
            self.assertTrue(score.is_feasible(problem, result.assign,
                                              capacity, load_cap))
            before = score.evaluate(problem, plan)
            after = score.evaluate(problem, result.assign)
            self.assertLessEqual(after, before)
            self.assertEqual(before.reached, after.reached)
            self.assertLessEqual(after.active, before.active)

    def test_move_budget_is_a_constraint(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        result = trim.trim(problem, np.array([1, 0, 0, 1]), capacity,
                           load_cap, 10.0, move_budget=1)
        # 2 moves are needed to keep two hosts at target
        self.assertEqual('failed', result.status)
        np.testing.assert_array_equal([1, 0, 0, 1], result.assign)


class TestGivingUp(unittest.TestCase):

    def test_a_milp_without_solution_stops_soon_after_its_relaxation(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        limits = []

        # as if its MILPs were too large to run to their node limit
        with mock.patch.object(trim, 'SMALL_MILP_COLUMNS', 0):
            result = self._trim_without_solutions(problem, capacity,
                                                  load_cap, limits)
        self.assertEqual('failed', result.status)
        # the restricted and the wider MILP, each given up after 1 s (the
        # floor, the relaxation took no time); no MILP on every column
        self.assertEqual([1.0, 1.0], limits)

    def test_a_small_milp_searches_until_its_node_limit(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        limits = []
        result = self._trim_without_solutions(problem, capacity, load_cap,
                                              limits)
        self.assertEqual('failed', result.status)
        # a handful of columns: each MILP may take the time left, so
        # only the node limit stops it, however busy the machine is
        self.assertEqual(2, len(limits))
        self.assertTrue(all(limit > 590.0 for limit in limits), limits)

    @staticmethod
    def _trim_without_solutions(problem, capacity, load_cap, limits):
        def relaxation(objective, *args, **kwargs):
            return optimize.OptimizeResult(
                status=0, x=np.zeros(len(objective)), fun=0.0,
                message='mocked')

        def milp(*args, options, **kwargs):
            limits.append(options['time_limit'])
            return optimize.OptimizeResult(status=1, x=None,
                                           message='time limit')

        with mock.patch.object(trim, '_relaxation', relaxation), \
                mock.patch.object(trim.optimize, 'milp', milp):
            return trim.trim(problem, np.array([1, 0, 0, 1]), capacity,
                             load_cap, 600.0)

    def test_no_milp_when_the_relaxation_proves_the_incumbent(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        # two moves, the fewest that keep two hosts at target
        plan = np.array([0, 0, 2, 2])
        with mock.patch.object(trim.optimize, 'milp',
                               side_effect=AssertionError('MILP ran')):
            result = trim.trim(problem, plan, capacity, load_cap, 10.0)
        self.assertEqual(('unchanged', trim.INCUMBENT_OPTIMAL),
                         (result.status, result.message))
        np.testing.assert_array_equal(plan, result.assign)

    def test_no_second_variant_after_a_failure(self):
        problem = three_hosts()
        capacity, load_cap = placement_problem.effective_capacity(problem)
        plan = np.array([2, 2, 2, 2])
        failed = trim.TrimResult(plan.copy(), 'failed', 'mocked')
        with mock.patch.object(trim, 'trim',
                               return_value=failed) as trimmed:
            result = trim.fewest_migrations(problem, plan, capacity,
                                            load_cap, 600.0)
        self.assertEqual(1, trimmed.call_count)
        self.assertEqual('failed', result.status)


class TestChunks(unittest.TestCase):

    def test_a_partition_that_keeps_linked_hosts_together(self):
        problem = helpers.make_problem(
            [HOST] * 6, [instance(host) for host in (0, 0, 1, 2, 3, 4, 5)])
        # instances 0 and 1 left host 0 for host 5; both stay active
        plan = np.array([5, 5, 0, 1, 3, 3, 5])
        groups = trim.chunks(problem, plan, 2, np.random.default_rng(0))
        np.testing.assert_array_equal(np.ones(6), np.sum(groups, axis=0))
        self.assertTrue(all(group.sum() <= 2 for group in groups))
        self.assertTrue(any(group[0] and group[5] for group in groups))

    def test_trimming_chunk_by_chunk(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        plan = np.array([1, 0, 0, 1])
        result = trim.fewest_migrations(problem, plan, capacity, load_cap,
                                        10.0, chunk_hosts=2, whole_below=0)
        self.assertEqual(2, score.evaluate(problem, result.assign).migrations)


class TestSolverTrims(unittest.TestCase):

    def test_search_result_is_trimmed_to_the_fewest_migrations(self):
        problem = three_hosts()
        result = solver.solve(problem, solver.Options(
            time_limit=20, full_milp_columns=0, cell_size=3))
        self.assertEqual((2, 2, 1), (result.score.reached,
                                     result.score.active,
                                     result.score.migrations))

    def test_no_migration_left_to_trim(self):
        rng = np.random.default_rng(5)
        for _ in range(3):
            problem = helpers.random_problem(rng, 12, 60)
            capacity, load_cap = placement_problem.effective_capacity(
                problem)
            result = solver.solve(problem, solver.Options(
                time_limit=20, full_milp_columns=0, cell_size=5))
            again = trim.fewest_migrations(problem, result.assign, capacity,
                                           load_cap, 10.0)
            self.assertEqual(result.score, score.evaluate(problem,
                                                          again.assign))

    def test_stops_early_when_the_bound_is_met(self):
        problem = three_hosts()
        result = solver.solve(problem, solver.Options(
            time_limit=60, full_milp_columns=0, cell_size=3))
        self.assertEqual(0, result.stats['cells'])
        self.assertIn('search_skipped', result.stats)


def best_with_budget(problem, max_moves):
    """Brute force: the best score with at most ``max_moves`` migrations."""
    capacity, load_cap = placement_problem.effective_capacity(problem)
    best = score.evaluate(problem, problem.current)
    for combo in itertools.product(range(problem.n_hosts),
                                   repeat=problem.n_instances):
        plan = np.array(combo)
        if ((plan != problem.current).sum() <= max_moves
                and score.is_feasible(problem, plan, capacity, load_cap)):
            best = min(best, score.evaluate(problem, plan))
    return best


class TestBudget(unittest.TestCase):

    def test_most_hosts_at_target_within_the_budget(self):
        rng = np.random.default_rng(2)
        for _ in range(6):
            problem = helpers.random_problem(rng, 4, 6)
            for max_moves in (1, 2, 3):
                result = solver.solve(problem, solver.Options(
                    time_limit=20, max_moves=max_moves, full_milp_columns=0,
                    cell_size=2))
                best = best_with_budget(problem, max_moves)
                self.assertLessEqual(result.score.migrations, max_moves)
                self.assertEqual(best.reached, result.score.reached)

    def test_best_subset_fills_a_host_rather_than_cut_the_plan(self):
        problem = helpers.make_problem(
            [HOST] * 4, [instance(host) for host in range(4)])
        capacity, load_cap = placement_problem.effective_capacity(problem)
        target = np.array([1, 1, 3, 3])  # two moves, two hosts at target
        plan = budget.best_subset(problem, target, 1, capacity, load_cap,
                                  10.0)
        self.assertEqual(1, int((plan != problem.current).sum()))
        self.assertEqual(1, score.evaluate(problem, plan).reached)
