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
"""Under a migration budget: most hosts at target, then most heat."""

import itertools
import unittest

import numpy as np

from heatwatcher.optimize import budget
from heatwatcher.optimize import heat_fill
from heatwatcher.optimize import priced
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from heatwatcher.optimize import solver
from tests.unit import helpers

HOST, OFF_LOOP, instance = helpers.HOST, helpers.OFF_LOOP, helpers.instance


def best_plan_score(problem, max_moves):
    """Brute force: the best plan within the budget, heat ranked second.

    Only plans strictly better than staying put (before the migrations)
    count, as in the solver: heat alone never justifies a plan.
    """
    capacity, load_cap = placement_problem.effective_capacity(problem)
    current = score.evaluate(problem, problem.current, harvested=True)
    best = current
    for combo in itertools.product(range(problem.n_hosts),
                                   repeat=problem.n_instances):
        plan = np.array(combo)
        if ((plan != problem.current).sum() > max_moves
                or not score.is_feasible(problem, plan, capacity,
                                         load_cap)):
            continue
        candidate = score.evaluate(problem, plan, harvested=True)
        if candidate.strictly_better_than(current):
            best = min(best, candidate)
    return best


class TestScore(unittest.TestCase):

    def test_harvested_heat_ranks_before_active_hosts(self):
        problem = helpers.make_problem(
            [HOST] * 3, [instance(0), instance(0), instance(1),
                         instance(2, load=1.0), instance(1, load=1.0)])
        # host 0 is at target in both (6.8 cores: 206.25 W); the first
        # plan empties host 2 onto host 1 (5.4 cores, below target), the
        # second takes host 1's busy instance to host 0 (10.2 cores:
        # 259.375 W) and leaves three hosts active
        emptier = np.array([0, 0, 1, 1, 1])
        hotter = np.array([0, 0, 0, 2, 1])
        self.assertLess(score.evaluate(problem, emptier),
                        score.evaluate(problem, hotter))
        self.assertLess(score.evaluate(problem, hotter, harvested=True),
                        score.evaluate(problem, emptier, harvested=True))
        self.assertEqual(-259.0, score.evaluate(
            problem, hotter, harvested=True).neg_harvested)
        self.assertEqual(0.0, score.evaluate(problem, hotter).neg_harvested)

    def test_heat_alone_does_not_justify_a_plan(self):
        problem = helpers.make_problem(
            [HOST] * 2, [instance(0), instance(0), instance(1)])
        staying = score.evaluate(problem, problem.current, harvested=True)
        hotter = score.evaluate(problem, np.array([0, 0, 0]),
                                harvested=True)
        # one host at target either way; the move empties host 1, which
        # is what makes it a plan, not the 53 W
        self.assertTrue(hotter.strictly_better_than(staying))
        problem = helpers.make_problem(
            [HOST, OFF_LOOP, OFF_LOOP],
            [instance(0), instance(0), instance(1), instance(2)])
        staying = score.evaluate(problem, problem.current, harvested=True)
        hotter = score.evaluate(problem, np.array([0, 0, 0, 2]),
                                harvested=True)
        self.assertLess(hotter.neg_harvested, staying.neg_harvested)
        self.assertTrue(hotter.strictly_better_than(staying))  # 1 fewer
        same_hosts = score.evaluate(problem, np.array([0, 0, 2, 1]),
                                    harvested=True)
        self.assertFalse(same_hosts.strictly_better_than(staying))


class TestHeatFill(unittest.TestCase):

    def setUp(self):
        self.problem = helpers.make_problem(
            [HOST, HOST, OFF_LOOP, HOST],
            [instance(0), instance(0), instance(0), instance(1),
             instance(2)])
        self.capacity, self.load_cap = placement_problem.effective_capacity(
            self.problem)

    def fill(self, plan, max_moves):
        return heat_fill.fill(self.problem, np.array(plan), self.capacity,
                              self.load_cap, max_moves)

    def test_leftover_budget_moves_load_onto_a_host_at_target(self):
        plan = self.fill([0, 0, 0, 1, 2], 1)
        self.assertEqual(1, int((plan != self.problem.current).sum()))
        self.assertEqual(0, plan[3])  # host 1's instance, to host 0
        before = score.evaluate(self.problem, self.problem.current, True)
        after = score.evaluate(self.problem, plan, True)
        self.assertAlmostEqual(53.0, before.neg_harvested
                               - after.neg_harvested, delta=1.0)

    def test_no_budget_left_no_move(self):
        plan = self.fill([0, 0, 0, 1, 2], 0)
        np.testing.assert_array_equal(self.problem.current, plan)

    def test_going_back_home_to_a_host_at_target_is_free(self):
        # the plan took one of host 0's three instances to host 3; host 0
        # is still at target with two, so it goes back, for no migration
        plan = self.fill([0, 0, 3, 1, 2], 1)
        self.assertEqual(0, plan[2])
        # and the migration that frees pays for another one onto host 0
        self.assertEqual(1, int((plan != self.problem.current).sum()))


class TestSolverUnderBudget(unittest.TestCase):

    def test_exact_milp_gives_the_most_heat_at_most_hosts_at_target(self):
        rng = np.random.default_rng(2)
        for _ in range(8):
            problem = helpers.random_problem(rng, 4, 6)
            for max_moves in (1, 2, 3):
                result = solver.solve(problem, solver.Options(
                    time_limit=20, max_moves=max_moves))
                best = best_plan_score(problem, max_moves)
                self.assertLessEqual(result.score.migrations, max_moves)
                self.assertEqual((best.reached, best.neg_harvested),
                                 (result.score.reached,
                                  result.score.neg_harvested))

    def test_best_subset_spends_the_budget_on_heat(self):
        problem = helpers.one_host_at_target()
        capacity, load_cap = placement_problem.effective_capacity(problem)
        # the unlimited plan moves both: one migration left in a budget of
        # one goes to the busier instance (+46.9 W) rather than to
        # emptying the off-loop host (+15.6 W)
        target = np.array([0, 0, 0, 0])
        hottest = budget.best_subset(problem, target, 1, capacity,
                                     load_cap, 10.0, harvested=True)
        np.testing.assert_array_equal([0, 0, 0, 2], hottest)
        emptiest = budget.best_subset(problem, target, 1, capacity,
                                      load_cap, 10.0)
        np.testing.assert_array_equal([0, 0, 1, 0], emptiest)


class TestWorthMaking(unittest.TestCase):

    def test_keeps_the_subset_of_migrations_worth_the_most(self):
        rng = np.random.default_rng(5)
        checked = 0
        for _ in range(12):
            problem = helpers.random_problem(rng, 4, 7)
            capacity, load_cap = placement_problem.effective_capacity(
                problem)
            target = solver.solve(problem, solver.Options(
                time_limit=20)).assign
            moved = np.flatnonzero(target != problem.current)
            if len(moved) < 2:
                continue
            checked += 1
            for heat_per_migration in (1.0, 20.0, 60.0):
                best = max(
                    priced.worth(problem, plan, heat_per_migration)
                    for plan in subsets(problem, target, moved)
                    if score.is_feasible(problem, plan, capacity, load_cap))
                plan = budget.worth_making(problem, target,
                                           heat_per_migration, capacity,
                                           load_cap, 10.0)
                self.assertTrue(score.is_feasible(problem, plan, capacity,
                                                  load_cap))
                moves = plan != problem.current
                np.testing.assert_array_equal(target[moves], plan[moves])
                self.assertAlmostEqual(
                    best, priced.worth(problem, plan, heat_per_migration),
                    delta=1.0)
        self.assertGreater(checked, 4)

    def test_a_migration_costing_more_than_any_gain_is_not_made(self):
        problem = helpers.one_host_at_target()
        capacity, load_cap = placement_problem.effective_capacity(problem)
        target = np.array([0, 0, 0, 0])
        # The busier instance adds 46.9 W to host 0 and empties host 1
        # (100 W idle), the other adds 15.6 W and empties host 2: 146.9 W
        # and 115.6 W.
        for heat_per_migration, expected in ((100.0, [0, 0, 0, 0]),
                                             (130.0, [0, 0, 0, 2]),
                                             (150.0, [0, 0, 1, 2])):
            np.testing.assert_array_equal(expected, budget.worth_making(
                problem, target, heat_per_migration, capacity, load_cap,
                10.0))


def subsets(problem, target, moved):
    """Every placement making a subset of ``target``'s migrations."""
    for chosen in itertools.product((False, True), repeat=len(moved)):
        plan = problem.current.copy()
        plan[moved[np.array(chosen)]] = target[moved[np.array(chosen)]]
        yield plan
