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
"""How :func:`milp.solve_cell` reads each status of ``scipy.optimize.milp``.

scipy documents 0 optimal, 1 iteration or time limit, 2 infeasible,
3 unbounded and 4 other (see the message), each with or without ``x``. The
fakes below return each of them; a real solve checks that a node limit, which
scipy 1.17 reports as status 4 "Solution limit reached", keeps its incumbent.
"""

import unittest
from unittest import mock

import numpy as np
from scipy import optimize

from heatwatcher.optimize import milp
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.optimize import score
from tests.unit import helpers

HOST = helpers.HOST
SOLUTION_LIMIT_MESSAGE = ('The HiGHS status code was not recognized. '
                          '(HiGHS Status 16: Solution limit reached)')


def four_by_four():
    """Four loop hosts with one 3.4-core instance each (see test_solver)."""
    hosts = [dict(HOST) for _ in range(4)]
    instances = [dict(host=index, vcpus=4, load=3.4, ram=4096)
                 for index in range(4)]
    return helpers.make_problem(hosts, instances)


def solve(problem, node_limit=None, mip_rel_gap=1e-4):
    capacity, load_cap = placement_problem.effective_capacity(problem)
    return milp.solve_cell(problem, problem.current,
                           np.arange(problem.n_hosts), capacity, load_cap,
                           time_limit=30, mip_rel_gap=mip_rel_gap,
                           node_limit=node_limit)


class FakeMilpTestCase(unittest.TestCase):
    """solve_cell against faked scipy results for every documented status.

    The "solution" used is the one scipy really finds for the problem, so
    it satisfies every row; the "infeasible solution" is all zeros, which
    places no instance and breaks the assignment rows.
    """

    def setUp(self):
        super().setUp()
        self.problem = four_by_four()
        captured = {}
        real_milp = optimize.milp

        def spy(*args, **kwargs):
            captured['result'] = real_milp(*args, **kwargs)
            return captured['result']

        with mock.patch.object(milp.optimize, 'milp', side_effect=spy):
            self.optimal = solve(self.problem)
        self.assertEqual('optimal', self.optimal.status)
        self.solution = captured['result'].x
        self.infeasible_solution = np.zeros_like(self.solution)

    def fake(self, status, x, message='faked'):
        fake_result = optimize.OptimizeResult(
            status=status, x=x, message=message, success=status == 0,
            mip_gap=0.5)
        with mock.patch.object(milp.optimize, 'milp',
                               return_value=fake_result) as fake_milp:
            result = solve(self.problem)
        fake_milp.assert_called_once()
        return result

    def assert_incumbent(self, result, status):
        self.assertEqual(status, result.status)
        self.assertIsNotNone(result.assign)
        np.testing.assert_array_equal(self.optimal.assign, result.assign)
        capacity, load_cap = placement_problem.effective_capacity(self.problem)
        self.assertTrue(score.is_feasible(self.problem, result.assign,
                                          capacity, load_cap))

    def assert_discarded(self, result, status):
        self.assertEqual(status, result.status)
        self.assertIsNone(result.assign)

    def test_status_0_optimal(self):
        self.assert_incumbent(self.fake(0, self.solution), 'optimal')

    def test_status_0_without_solution_is_an_error(self):
        self.assert_discarded(self.fake(0, None), 'error')

    def test_status_1_time_limit_keeps_incumbent(self):
        result = self.fake(1, self.solution, 'Time limit reached. ')
        self.assert_incumbent(result, 'time_limit')
        self.assertEqual(0.5, result.mip_gap)

    def test_status_1_iteration_limit_keeps_incumbent(self):
        self.assert_incumbent(
            self.fake(1, self.solution, 'Iteration limit reached. '),
            'time_limit')

    def test_status_1_without_solution(self):
        self.assert_discarded(self.fake(1, None), 'no_solution')

    def test_status_1_with_infeasible_solution(self):
        self.assert_discarded(self.fake(1, self.infeasible_solution),
                              'no_solution')

    def test_status_2_infeasible(self):
        self.assert_discarded(self.fake(2, None), 'infeasible')

    def test_status_2_ignores_any_solution(self):
        self.assert_discarded(self.fake(2, self.solution), 'infeasible')

    def test_status_3_unbounded(self):
        self.assert_discarded(self.fake(3, None), 'unbounded')

    def test_status_3_ignores_any_solution(self):
        self.assert_discarded(self.fake(3, self.solution), 'unbounded')

    def test_status_4_solution_limit_keeps_incumbent(self):
        self.assert_incumbent(
            self.fake(4, self.solution, SOLUTION_LIMIT_MESSAGE),
            'node_limit')

    def test_status_4_solution_limit_without_solution(self):
        self.assert_discarded(self.fake(4, None, SOLUTION_LIMIT_MESSAGE),
                              'no_solution')

    def test_status_4_other_limit_keeps_incumbent(self):
        self.assert_incumbent(
            self.fake(4, self.solution,
                      '(HiGHS Status 17: Interrupted by user)'),
            'limit')

    def test_status_4_without_solution_is_an_error(self):
        self.assert_discarded(
            self.fake(4, None, 'The problem is unbounded or infeasible. '),
            'error')

    def test_status_4_with_infeasible_solution_is_an_error(self):
        self.assert_discarded(self.fake(4, self.infeasible_solution),
                              'error')

    def test_status_4_with_fractional_solution_is_an_error(self):
        self.assert_discarded(self.fake(4, self.solution * 0.5), 'error')

    def test_undocumented_status_is_an_error(self):
        self.assert_discarded(self.fake(7, self.solution), 'error')

    def test_solver_exception_is_an_error(self):
        with mock.patch.object(milp.optimize, 'milp',
                               side_effect=ValueError('bad input')):
            result = solve(self.problem)
        self.assert_discarded(result, 'error')
        self.assertEqual('bad input', result.message)


class RealNodeLimitTestCase(unittest.TestCase):

    def test_node_limit_returns_feasible_incumbent(self):
        # With a gap this tight HiGHS does not close this problem at the
        # root node: with one node allowed it stops on its solution limit
        # (scipy status 4) holding a feasible incumbent.
        problem = helpers.random_problem(np.random.default_rng(4), 12, 40)
        result = solve(problem, node_limit=1, mip_rel_gap=1e-6)
        self.assertEqual('node_limit', result.status, result.message)
        self.assertIn('solution limit', result.message.lower())
        self.assertIsNotNone(result.assign)
        capacity, load_cap = placement_problem.effective_capacity(problem)
        self.assertTrue(score.is_feasible(problem, result.assign, capacity,
                                          load_cap))
        self.assertFalse(
            score.evaluate(problem, problem.current)
            < score.evaluate(problem, result.assign))

    def test_without_node_limit_the_same_problem_is_optimal(self):
        problem = helpers.random_problem(np.random.default_rng(4), 12, 40)
        self.assertEqual('optimal',
                         solve(problem, mip_rel_gap=1e-6).status)
