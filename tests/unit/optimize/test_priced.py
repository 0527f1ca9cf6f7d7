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
"""migration_heat_cost: the plan whose migrations pay for themselves."""

import unittest
from unittest import mock

import numpy as np

from heatwatcher.optimize import budget
from heatwatcher.optimize import priced
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from heatwatcher.optimize import solver
from tests.unit import helpers

HOST, OFF_LOOP, instance = helpers.HOST, helpers.OFF_LOOP, helpers.instance


class TestWorth(unittest.TestCase):

    def test_heat_gained_idle_power_saved_less_the_price(self):
        problem = helpers.one_host_at_target()
        # host 0 goes from 6.8 to 10.8 busy cores (206.25 to 268.75 W),
        # hosts 1 and 2 are emptied (100 W idle each), two migrations
        self.assertAlmostEqual(
            62.5 + 200.0 - 2 * 30.0,
            priced.worth(problem, np.array([0, 0, 0, 0]), 30.0))
        # host 1 reaches target (6.4 cores, 200 W), host 0 drops below it
        self.assertAlmostEqual(
            200.0 - 206.25 - 10.0,
            priced.worth(problem, np.array([0, 1, 1, 2]), 10.0))
        self.assertEqual(0.0, priced.worth(problem, problem.current, 50.0))

    def test_a_host_started_costs_its_idle_power(self):
        problem = helpers.make_problem(
            [OFF_LOOP, OFF_LOOP],
            [instance(0, load=1.0), instance(0, load=1.0)])
        self.assertAlmostEqual(
            -100.0 - 10.0, priced.worth(problem, np.array([0, 1]), 10.0))


class TestPricedPlan(unittest.TestCase):

    def test_the_subset_worth_the_most_of_every_plan_tried(self):
        rng = np.random.default_rng(11)
        checked = 0
        for _ in range(10):
            problem = helpers.random_problem(rng, 5, 10)
            capacity, load_cap = placement_problem.effective_capacity(
                problem)
            options = solver.Options(time_limit=10)
            plan = solver.solve(problem, options).assign
            if (plan == problem.current).all():
                continue
            checked += 1
            for heat_per_migration in (5.0, 40.0):
                outcome = priced.priced_plan(problem, plan,
                                             heat_per_migration, options)
                self.assertTrue(score.is_feasible(
                    problem, outcome.assign, capacity, load_cap))
                self.assertAlmostEqual(outcome.worth, priced.worth(
                    problem, outcome.assign, heat_per_migration))
                values = [0.0] + [kept[1] for kept in outcome.tried.values()
                                  if kept is not None]
                self.assertAlmostEqual(max(values), outcome.worth)
                # never worse than the subset of the plan alone
                subset = budget.worth_making(problem, plan,
                                             heat_per_migration, capacity,
                                             load_cap, 10.0)
                self.assertGreaterEqual(
                    outcome.worth + 1e-6,
                    priced.worth(problem, subset, heat_per_migration))
        self.assertGreater(checked, 4)

    def test_a_plan_for_a_smaller_budget_wins_when_it_pays_more(self):
        # Two loop hosts below target. The unpriced plan fills host 0 with
        # the three light instances of host 2; for a budget of one, host 1
        # takes the busy instance of host 3 and reaches target with one
        # migration.
        problem = helpers.make_problem(
            [HOST, HOST, OFF_LOOP, OFF_LOOP],
            [instance(0, load=4.0), instance(1, load=4.0),
             instance(2, load=1.0), instance(2, load=1.0),
             instance(2, load=1.0), instance(3, load=3.0)])
        plan = np.array([0, 1, 0, 0, 0, 3])
        cheaper = np.array([0, 1, 2, 2, 2, 1])
        options = solver.Options(time_limit=10)
        with mock.patch.object(priced.solver, 'solve', return_value=mock.Mock(
                assign=cheaper)) as solve:
            outcome = priced.priced_plan(problem, plan, 40.0, options)
        # 10, 25 and 50 % of the plan's 3 migrations, at least one each
        self.assertEqual([1, 2], [call.args[1].max_moves
                                  for call in solve.call_args_list])
        np.testing.assert_array_equal(cheaper, outcome.assign)
        self.assertEqual('the best plan for a budget of 1', outcome.source)
        self.assertEqual((1, outcome.worth),
                         outcome.tried['the best plan for a budget of 2'])
        # 7 busy cores on host 1 (209.4 W), host 3 emptied, one migration
        self.assertAlmostEqual(209.375 + 100.0 - 40.0, outcome.worth)
        # the plan's three migrations bring host 0 to 7 busy cores too, and
        # empty host 2, for three migrations
        self.assertAlmostEqual(209.375 + 100.0 - 120.0,
                               outcome.tried['the plan'][1])
