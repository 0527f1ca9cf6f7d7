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

from tests import synthetic
from tests.unit.tools import bench_module

audit_scale = bench_module('audit_scale')


class TestHostHistory(unittest.TestCase):
    """``--host-history``: the hosts' series follow their instances."""

    def setUp(self):
        self.cluster = synthetic.generate(4, seed=2)
        self.source = synthetic.cpu_history(self.cluster, days=2, seed=2,
                                            hosts=True)

    def test_host_cpu_is_its_instances_use_over_its_cores(self):
        for host in self.cluster.hosts:
            used = sum(
                self.source.series['instance_cpu_usage'][inst.uuid].values
                / 100.0 * inst.vcpus
                for inst in self.cluster.instances if inst.host == host.name)
            expected = np.clip(used / host.vcpus, 0, 1) * 100.0
            got = self.source.series['host_cpu_usage'][host.name].values
            self.assertLess(np.abs(got - expected).mean(), 1.0, host.name)

    def test_host_power_is_linear_from_idle_to_max_in_that_use(self):
        for host in self.cluster.hosts:
            share = (self.source.series['host_cpu_usage'][host.name].values
                     / 100.0)
            power = self.source.series['host_power'][host.name].values
            slope, idle = np.polyfit(share, power, 1)
            self.assertAlmostEqual(host.idle_power, idle,
                                   delta=0.05 * host.idle_power)
            self.assertAlmostEqual(host.max_power, idle + slope,
                                   delta=0.05 * host.max_power)

    def test_without_hosts_only_instances_have_history(self):
        source = synthetic.cpu_history(self.cluster, days=1)
        self.assertEqual({'instance_cpu_usage'}, set(source.series))

    def test_rows_with_host_history_are_kept_apart(self):
        self.assertEqual('arrays', audit_scale.series_read(False, False))
        self.assertEqual('arrays + host history',
                         audit_scale.series_read(False, True))


class TestAgainstBound(unittest.TestCase):
    """The "solver / bound" column of the solve table."""

    def test_solver_count_over_the_bound_with_the_gap(self):
        row = {'upper_bound': 3811, 'solver': {'reached': 3748}}
        self.assertEqual('3748 / 3811 (-1.7 %)',
                         audit_scale._against_bound(row))

    def test_rows_that_did_not_record_the_count_get_a_dash(self):
        self.assertEqual('-', audit_scale._against_bound(
            {'upper_bound': 763, 'solver': {'seconds': 20.0}}))
        self.assertEqual('-', audit_scale._against_bound(
            {'upper_bound': 0, 'solver': {'reached': 0}}))
