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
"""The pure helpers of tools/bench/gnocchi_reads.py (no sandbox needed)."""

import datetime
import unittest

import numpy as np

from heatwatcher import timestamps

from tests.unit import tools

gnocchi_reads = tools.bench_module('gnocchi_reads')
UTC = datetime.timezone.utc


def _samples(values, start=0):
    return timestamps.Samples(
        np.arange(start, start + 300 * len(values), 300, dtype=np.int64),
        np.array(values, dtype=float))


class TestCompare(unittest.TestCase):

    def test_identical_series(self):
        got = gnocchi_reads.compare_samples(
            {'a': _samples([1.0, np.nan, 3.0])},
            {'a': _samples([1.0, np.nan, 3.0])})
        self.assertTrue(gnocchi_reads.identical(got))
        self.assertEqual((1, 3), (got['series'], got['points']))

    def test_value_and_time_differences_are_counted(self):
        got = gnocchi_reads.compare_samples(
            {'a': _samples([1.0, 2.0]), 'b': _samples([1.0]),
             'c': _samples([5.0])},
            {'a': _samples([1.0, 2.5]), 'b': _samples([1.0], start=300),
             'd': _samples([5.0])})
        self.assertFalse(gnocchi_reads.identical(got))
        self.assertEqual(1, got['value_mismatches'])
        self.assertEqual(0.5, got['max_abs_difference'])
        self.assertEqual(1, got['time_mismatches'])
        self.assertEqual((1, 1), (got['only_bulk'],
                                  got['only_per_resource']))

    def test_values(self):
        got = gnocchi_reads.compare_values({'a': 1.0, 'b': None, 'c': 2.0},
                                           {'a': 1.0, 'b': 3.0, 'c': 2.25})
        self.assertEqual({'values': 2, 'only_bulk': 0,
                          'only_per_resource': 1, 'value_mismatches': 1,
                          'max_abs_difference': 0.25}, got)

    def test_values_read_between_two_bulk_reads(self):
        # 'b' changed between the bulk reads: the per-resource read has the
        # later value; 'c' matches neither
        got = gnocchi_reads.compare_values(
            {'a': 1.0, 'b': 2.0, 'c': 3.0}, {'a': 1.0, 'b': 2.5, 'c': 4.0},
            {'a': 1.0, 'b': 2.5, 'c': 3.0})
        self.assertEqual({'values': 3, 'only_bulk': 0,
                          'only_per_resource': 0, 'value_mismatches': 1,
                          'max_abs_difference': 1.0,
                          'changed_during_reads': 1}, got)

    def test_comparisons_of_several_metrics_are_merged(self):
        got = gnocchi_reads.merged([
            gnocchi_reads.compare_samples({'a': _samples([1.0, 2.0])},
                                          {'a': _samples([1.0, 2.5])}),
            gnocchi_reads.compare_samples(
                {'a': _samples([4.0]), 'b': _samples([1.0])},
                {'a': _samples([4.25])})])
        self.assertEqual({'series': 2, 'only_bulk': 1,
                          'only_per_resource': 0, 'points': 3,
                          'time_mismatches': 0, 'value_mismatches': 2,
                          'max_abs_difference': 0.5}, got)
        self.assertFalse(gnocchi_reads.identical(got))


class TestWindow(unittest.TestCase):

    def test_series_end_is_one_step_before_the_current_step(self):
        now = datetime.datetime(2026, 11, 23, 4, 17, 42, tzinfo=UTC)
        self.assertEqual(datetime.datetime(2026, 11, 23, 4, 10, tzinfo=UTC),
                         gnocchi_reads.series_end(now, 300))

    def test_boundaries_between(self):
        self.assertEqual(0, gnocchi_reads.boundaries_between(301, 599, 300))
        self.assertEqual(1, gnocchi_reads.boundaries_between(599, 601, 300))


class TestMarkdown(unittest.TestCase):

    def test_renders_rows_and_totals(self):
        figures = {'seconds': 1.0, 'requests': 3, 'mib': 2.0,
                   'client_cpu_seconds': 0.1,
                   'gnocchi_api_cpu_seconds': 0.8}
        row = {'read': 'host_power (series, 7 d)', 'resources': 20,
               'bulk': figures, 'per_resource': dict(figures, seconds=3.0),
               'speedup': 3.0, 'identical': True,
               'comparison': {}}
        run = {'hosts': 20, 'instances': 200, 'measured_at': 'T',
               'machine': 'x', 'python': '3', 'cpus': 2, 'sandbox': '/s',
               'series_end': 'E',
               'rounds': [{'order': ['bulk', 'per_resource'], 'rows': [row],
                           'total': gnocchi_reads.totals([row])}]}
        text = gnocchi_reads.markdown([run])
        self.assertIn('## 20 hosts, 200 instances, bulk with one request '
                      'at a time', text)
        self.assertIn('| 1 | host_power (series, 7 d) | 20 | 1.00 | 3 | '
                      '2.0 | 0.80 | 0.10 | 3.00 |', text)
        self.assertIn('| **audit total** |', text)
        self.assertIn('| 3.0x | yes |', text)

    def test_the_audit_total_leaves_out_the_snapshot_capture(self):
        def row(seconds, in_audit):
            figures = {'seconds': seconds, 'requests': 1, 'mib': 1.0,
                       'client_cpu_seconds': 0.1,
                       'gnocchi_api_cpu_seconds': 0.5}
            return {'bulk': figures, 'per_resource': figures,
                    'identical': True, 'in_audit': in_audit}
        total = gnocchi_reads.totals([row(2.0, True), row(30.0, False),
                                      row(5.0, True)])
        self.assertEqual(7.0, total['bulk']['seconds'])
        self.assertEqual(2, total['per_resource']['requests'])


class TestSlotMeans(unittest.TestCase):

    def test_equal_to_rounding_and_missing_values_counted(self):
        bulk = np.array([[[1.0, np.nan, 3.0]], [[4.0, 5.0, np.nan]]])
        per = bulk.copy()
        per[0, 0, 0] += 1e-12                 # rounding: still equal
        self.assertTrue(gnocchi_reads.identical(
            gnocchi_reads.compare_slot_means(bulk, per)))
        per[1, 0, 1] = 5.5
        per[1, 0, 2] = 6.0                    # only per resource
        comparison = gnocchi_reads.compare_slot_means(bulk, per)
        self.assertEqual({'values': 4, 'only_bulk': 0,
                          'only_per_resource': 1, 'value_mismatches': 1,
                          'max_abs_difference': 0.5}, comparison)
        self.assertFalse(gnocchi_reads.identical(comparison))
