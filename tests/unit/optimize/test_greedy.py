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

import unittest

import numpy as np

from heatwatcher.optimize import greedy
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from tests import synthetic
from tests.unit import helpers


class TestGreedy(unittest.TestCase):

    def test_feasible_and_pinned_untouched_on_random_problems(self):
        rng = np.random.default_rng(5)
        for _ in range(20):
            p = helpers.random_problem(rng, 8, 40)
            cap, lcap = placement_problem.effective_capacity(p)
            a = greedy.greedy(p, cap, lcap)
            self.assertTrue(score.is_feasible(p, a, cap, lcap))
            np.testing.assert_array_equal(p.current[~p.movable],
                                          a[~p.movable])

    def test_move_budget_is_honoured(self):
        rng = np.random.default_rng(9)
        for budget in (0, 1, 3):
            p = helpers.random_problem(rng, 8, 40)
            a = greedy.greedy(p, max_moves=budget)
            self.assertLessEqual(int((a != p.current).sum()), budget)

    def test_synthetic_cluster_close_to_bound(self):
        from heatwatcher.optimize import bound
        from tests.unit.optimize import test_build
        p = test_build.synthetic_problem(synthetic.generate(40, seed=2))
        a = greedy.greedy(p)
        s = score.evaluate(p, a)
        b = bound.upper_bound(p)
        self.assertGreaterEqual(s.reached, b.reached - 1)
        # at most one active host below target
        _, load, count = p.host_usage(a)
        below = (count > 0) & ~score.reached_mask(p, load, count)
        self.assertLessEqual(int(below.sum()), 1)
