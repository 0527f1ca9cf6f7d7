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
"""The history matrix: samples stamped at step boundaries, any "now"."""

import datetime
import unittest
from unittest import mock

import numpy as np

from heatwatcher.forecast import history
from heatwatcher import timestamps

UTC = datetime.timezone.utc
MIDNIGHT = datetime.datetime(2026, 11, 2, tzinfo=UTC)
STEP = 300
SLOT_MINUTES = 20


def stepped(days, value_of_step):
    """Samples every step from ``MIDNIGHT``, ``days`` days long."""
    steps = np.arange(days * 86400 // STEP)
    return timestamps.Samples(MIDNIGHT.timestamp() + STEP * steps,
                              value_of_step(steps).astype(float))


class TestMatrix(unittest.TestCase):

    def matrix(self, series, end):
        return history.matrix({'a': series}, ['a'], end, window=86400,
                              step=STEP, slot_minutes=SLOT_MINUTES,
                              horizon=1)

    def test_slot_means_do_not_depend_on_the_second_of_the_audit(self):
        # the load is the step's index within its slot: every slot's mean
        # is 1.5, unless a step of a neighbouring slot slips in
        series = stepped(2, lambda steps: steps % 4)
        # ten minutes in: the window's start is in the middle of a slot,
        # whose first two steps the matrix still holds
        for seconds in (0, 37, 149, 151, 299, 600, 637, 899):
            end = MIDNIGHT + datetime.timedelta(days=1, hours=12,
                                                seconds=seconds)
            got = self.matrix(series, end)
            flat = got.y.reshape(-1)[:got.now]
            flat = flat[np.isfinite(flat)]
            self.assertEqual(36 + 36, len(flat), seconds)  # 12 h of slots
            np.testing.assert_array_equal(np.full(len(flat), 1.5), flat,
                                          'audit at %d s past a step'
                                          % seconds)

    def test_one_sample_a_slot_gives_the_same_matrix(self):
        # what Gnocchi's resample answers: one value a slot, at its start
        series = stepped(2, lambda steps: (steps // 4) % 72)
        per_slot = timestamps.Samples(series.times[::4], series.values[::4])
        end = MIDNIGHT + datetime.timedelta(days=1, hours=7, seconds=211)
        full, sparse = self.matrix(series, end), self.matrix(per_slot, end)
        self.assertEqual(full.now, sparse.now)
        np.testing.assert_array_equal(full.y, sparse.y)

    def test_built_in_blocks_of_instances_gives_the_same_matrix(self):
        # uneven series (gaps, NaN, a missing instance, two samples in a
        # step) so that every row differs; blocks of 2 rows against one
        rng = np.random.default_rng(3)
        series = {}
        for name in 'abcdefg':
            samples = stepped(3, lambda steps: rng.uniform(0, 100,
                                                           len(steps)))
            keep = rng.uniform(size=len(samples.times)) > 0.2
            values = samples.values[keep]
            values[rng.integers(0, len(values), 5)] = np.nan
            series[name] = timestamps.Samples(
                samples.times[keep] + rng.integers(0, STEP, keep.sum()),
                values)
        uuids = list('abcdefgh')               # h has no history
        end = MIDNIGHT + datetime.timedelta(days=2, hours=5, seconds=77)

        def build():
            return history.matrix(series, uuids, end, window=2 * 86400,
                                  step=STEP, slot_minutes=SLOT_MINUTES,
                                  horizon=100)
        whole = build()
        with mock.patch.object(history, 'CHUNK_SAMPLES', 2 * 600):
            blocks = build()
        self.assertEqual(whole.now, blocks.now)
        np.testing.assert_array_equal(whole.cats, blocks.cats)
        np.testing.assert_array_equal(whole.y, blocks.y)
        self.assertGreater(np.isfinite(whole.y[:7, 1]).mean(), 0.9)
        self.assertTrue(np.isnan(whole.y[7]).all())


if __name__ == '__main__':
    unittest.main()
