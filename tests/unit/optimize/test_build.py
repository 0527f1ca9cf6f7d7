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

import types
import unittest

import numpy as np

from heatwatcher.estimation import power
from heatwatcher import exception
from heatwatcher.optimize import build
from heatwatcher.optimize import problem as placement_problem
from heatwatcher.strategies import heat_consolidation_settings as hs
from heatwatcher.telemetry import collect
from tests import synthetic


def settings(**over):
    conf = types.SimpleNamespace(**{o.dest: o.default
                                    for o in hs.config_opts()})
    return hs.resolve(conf, over)


def synthetic_problem(cluster):
    return synthetic.to_problem(cluster)


def host(name='h1', **kw):
    base = dict(name=name, uuid='u-' + name, vcpus=16, memory_mb=65536,
                disk_gb=1000)
    base.update(kw)
    return collect.HostRecord(**base)


def inst(uuid, host_name='h1', cpu=50.0, **kw):
    base = dict(uuid=uuid, name='vm-' + uuid, host=host_name, vcpus=4,
                memory_mb=8192, disk_gb=40, cpu_percent=cpu)
    base.update(kw)
    return collect.InstanceRecord(**base)


def build_one(hosts, insts, **over):
    snap = collect.Snapshot(hosts, insts)
    models = power.configured_models([h.name for h in hosts],
                                     [h.vcpus for h in hosts], {}, 100.0,
                                     300.0, hs.match)
    return build.build(snap, settings(**over), models,
                       np.ones(len(hosts), bool), np.full(len(hosts), 200.0))


class TestBuild(unittest.TestCase):

    def test_capacity_is_total_minus_reserved_times_ratio_and_headroom(self):
        h = host(vcpus=16, vcpu_reserved=2, vcpu_ratio=4.0, memory_mb=1000,
                 memory_mb_reserved=200, memory_ratio=1.5, disk_gb=100,
                 disk_gb_reserved=10, disk_ratio=2.0)
        p, _ = build_one([h], [inst('a')], headroom=0.1)
        np.testing.assert_allclose(p.capacity[0],
                                   [14 * 4 * 0.9, 800 * 1.5 * 0.9,
                                    90 * 2 * 0.9])
        self.assertAlmostEqual(14 * 0.9, p.load_cap[0])

    def test_load_is_percent_of_own_vcpus(self):
        p, _ = build_one([host()], [inst('a', cpu=25.0, vcpus=8)])
        self.assertAlmostEqual(2.0, p.load[0])

    def test_load_noise_below_a_micro_core_builds_the_same_problem(self):
        noisy, _ = build_one([host()], [inst('a', cpu=25.0 + 1e-12,
                                             vcpus=8)])
        clean, _ = build_one([host()], [inst('a', cpu=25.0, vcpus=8)])
        np.testing.assert_array_equal(clean.load, noisy.load)

    def test_missing_metric_policies(self):
        insts = [inst('a', cpu=None), inst('b', cpu=10.0)]
        p, info = build_one([host()], insts)
        self.assertEqual([4.0, 0.4], list(p.load))
        self.assertEqual(['a'], info.missing)
        self.assertIn('assume_full', info.notes[0])
        p, _ = build_one([host()], insts, missing_metric_policy='assume_idle')
        self.assertEqual([0.0, 0.4], list(p.load))
        self.assertTrue(p.movable[0])
        p, _ = build_one([host()], insts,
                         missing_metric_policy='skip_instance')
        self.assertEqual([False, True], list(p.movable))

    def test_all_metrics_missing_fails_instead_of_guessing(self):
        insts = [inst('a', cpu=None), inst('b', cpu=None)]
        with self.assertRaisesRegex(exception.TelemetryUnavailable,
                                    'missing for all 2 instances'):
            build_one([host()], insts)

    def test_only_active_or_allowed_stopped_instances_move(self):
        insts = [inst('a'), inst('b', state='stopped'),
                 inst('c', state='error'), inst('d', excluded=True)]
        p, info = build_one([host()], insts)
        self.assertEqual([True, False, False, False], list(p.movable))
        p, info = build_one([host()], insts, allow_cold_migration=True)
        self.assertEqual([True, True, False, False], list(p.movable))
        self.assertEqual(['live', 'cold', 'cold', 'live'],
                         info.migration_type)
        # immovable instances still use capacity
        used, _, _ = p.host_usage(p.current)
        self.assertEqual(16.0, used[0, 0])

    def test_bad_host_data_names_host_and_field(self):
        with self.assertRaisesRegex(exception.InvalidClusterData,
                                    'host h1, field vcpu_ratio'):
            build_one([host(vcpu_ratio=float('nan'))], [inst('a')])

    def test_synthetic_cluster_round_trip(self):
        cluster = synthetic.generate(12, seed=4)
        p = synthetic_problem(cluster)
        self.assertEqual(len(cluster.instances), p.n_instances)
        self.assertEqual(sum(h.loop for h in cluster.hosts), p.loop.sum())
        k = [h.name for h in cluster.hosts].index(p.host_names[0])
        h = cluster.hosts[k]
        self.assertAlmostEqual(cluster.target(h), p.target[0], places=3)
        np.testing.assert_allclose(
            h.idle_power
            + (h.max_power - h.idle_power) * placement_problem.GRID,
            p.curve[0])
