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
from unittest import mock

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


class _Clock:
    """``time.monotonic`` that jumps past any deadline after ``calls``."""

    def __init__(self, calls):
        self.calls = calls

    def __call__(self):
        self.calls -= 1
        return 0.0 if self.calls >= 0 else 100.0


class TestGreedyDeadline(unittest.TestCase):

    def setUp(self):
        from tests.unit.optimize import test_build
        self.problem = test_build.synthetic_problem(
            synthetic.generate(40, seed=2))
        self.capacity, self.load_cap = placement_problem.effective_capacity(
            self.problem)

    def run_greedy(self, calls):
        stats = {}
        with mock.patch.object(greedy.time, 'monotonic', _Clock(calls)):
            assign = greedy.greedy(self.problem, self.capacity,
                                   self.load_cap, deadline=50.0,
                                   stats=stats)
        self.assertTrue(score.is_feasible(self.problem, assign,
                                          self.capacity, self.load_cap))
        return assign, stats

    def test_a_passed_deadline_leaves_the_placement_and_says_so(self):
        assign, stats = self.run_greedy(0)
        np.testing.assert_array_equal(self.problem.current, assign)
        self.assertEqual({'greedy_stopped': 'fill (round 1)'}, stats)

    def test_stopped_part_way_keeps_the_hosts_filled_so_far(self):
        whole = greedy.greedy(self.problem, self.capacity, self.load_cap)
        before = score.evaluate(self.problem, self.problem.current).reached
        assign, stats = self.run_greedy(5)     # 5 hosts looked at
        self.assertEqual({'greedy_stopped': 'fill (round 1)'}, stats)
        reached = score.evaluate(self.problem, assign).reached
        self.assertGreater(reached, before)
        self.assertLess(reached, score.evaluate(self.problem, whole).reached)

    def test_a_deadline_not_reached_changes_nothing(self):
        whole = greedy.greedy(self.problem, self.capacity, self.load_cap)
        stats = {}
        np.testing.assert_array_equal(whole, greedy.greedy(
            self.problem, self.capacity, self.load_cap,
            deadline=float('inf'), stats=stats))
        self.assertEqual({}, stats)
