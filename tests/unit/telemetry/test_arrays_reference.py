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
"""The vectorised series paths against straightforward references.

Each reference below is the per-point implementation the array code
replaced (dicts, one timestamp at a time). Random series with gaps,
duplicated instants (the same second written differently), unsorted keys,
missing and non-numeric values and counter resets go through both; the
numbers must agree.
"""

import datetime
import math
import unittest

import numpy as np

from heatwatcher.estimation import fit
from heatwatcher.forecast import history
from heatwatcher.telemetry import collect
from heatwatcher import timestamps

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 3, 1, tzinfo=UTC).timestamp()
STEP = 300


# ---- references: one point at a time -------------------------------------

def reference_epoch(stamp):
    if isinstance(stamp, (int, float)):
        return float(stamp)
    if not isinstance(stamp, datetime.datetime):
        stamp = datetime.datetime.fromisoformat(
            str(stamp).replace('Z', '+00:00'))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def reference_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def reference_to_grid(series, start, step, count):
    sums, counts = [0.0] * count, [0] * count
    for stamp, value in (series or {}).items():
        value = reference_number(value)
        bucket = math.floor((reference_epoch(stamp) - start) / step)
        if 0 <= bucket < count and math.isfinite(value):
            sums[bucket] += value
            counts[bucket] += 1
    return np.array([total / number if number else math.nan
                     for total, number in zip(sums, counts)])


def reference_cpu_percent(series, vcpus):
    points = sorted((reference_epoch(stamp), stamp, value)
                    for stamp, value in series.items()
                    if value is not None
                    and math.isfinite(reference_number(value)))
    out = {}
    for (t0, stamp, v0), (t1, _, v1) in zip(points, points[1:]):
        if t1 > t0 and v1 >= v0:
            out[stamp] = (v1 - v0) / (t1 - t0) / 1e9 / max(vcpus, 1) * 100.0
    return out


def reference_join(power, util, granularity):
    def buckets(series):
        grouped = {}
        for stamp, value in series.items():
            value = reference_number(value)
            if math.isfinite(value):
                key = int(reference_epoch(stamp) // granularity)
                grouped.setdefault(key, []).append(value)
        return {key: sum(values) / len(values)
                for key, values in grouped.items()}
    power_buckets, util_buckets = buckets(power), buckets(util)
    pairs = [(util_buckets[key], power_buckets[key])
             for key in sorted(set(power_buckets) & set(util_buckets))
             if 0 <= util_buckets[key] <= 100 and power_buckets[key] > 0]
    return (np.array([u / 100.0 for u, _ in pairs]),
            np.array([p for _, p in pairs]))


# ---- random series ------------------------------------------------------

def _text(seconds, style):
    moment = datetime.datetime.fromtimestamp(seconds, UTC)
    if style == 0:
        return moment.isoformat()                       # +00:00
    if style == 1:
        return moment.replace(tzinfo=None).isoformat() + 'Z'
    if style == 2:                                      # another zone
        return moment.astimezone(datetime.timezone(
            datetime.timedelta(hours=-5, minutes=-30))).isoformat()
    if style == 3:
        return moment.replace(tzinfo=None).isoformat(sep=' ')  # naive
    return moment                                       # aware datetime


def random_series(rng, samples, counter=False, styles=(0,)):
    """``{timestamp: value}`` with gaps, duplicates and odd values."""
    slots = np.sort(rng.choice(samples * 2, size=samples, replace=False))
    seconds = START + slots * STEP + rng.integers(0, STEP, samples)
    if counter:
        rates = rng.uniform(0, 2e9, samples) * STEP
        values = np.cumsum(rates)
        for reset in rng.choice(samples, size=3, replace=False):
            values[reset:] -= values[reset] - rng.uniform(0, 1e9)
    else:
        values = rng.uniform(-10, 120, samples)
    series = {}
    for index in rng.permutation(samples):      # keys in no order
        style = styles[rng.integers(len(styles))]
        value = float(values[index])
        roll = rng.random()
        if roll < 0.03:
            value = None
        elif roll < 0.05:
            value = 'n/a'
        elif roll < 0.07:
            value = math.nan
        series[_text(seconds[index], style)] = value
        if style != 4 and rng.random() < 0.05:   # the same second again
            other = (style + 1) % 4
            series[_text(seconds[index], other)] = (
                value if rng.random() < 0.3 or value is None
                or isinstance(value, str)
                else value + float(rng.uniform(-1e6, 1e6)))
    return series


class TestAgainstReferences(unittest.TestCase):

    STYLES = (0, 1, 2, 3, 4)

    def setUp(self):
        self.rng = np.random.default_rng(7)

    def assertSameArrays(self, expected, actual):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0,
                                   equal_nan=True)

    def test_parse_matches_epoch_on_every_style(self):
        seconds = START + self.rng.integers(-10 ** 9, 10 ** 9, 2000)
        stamps = [_text(second, style) for second, style in
                  zip(seconds, self.rng.integers(0, 5, len(seconds)))]
        stamps += ['2026-03-01T10:00:00.999999+00:00', '2024-02-29',
                   '2026-03-01T10:00:00+0100', 1772359200.9, 1772359200]
        expected = [math.floor(reference_epoch(stamp)) for stamp in stamps]
        self.assertEqual(expected, timestamps.parse(stamps).tolist())

    def test_bad_text_raises_like_fromisoformat(self):
        for bad in ('2026-02-30T00:00:00', '2026-13-01T00:00:00',
                    'yesterday'):
            with self.assertRaises(ValueError):
                timestamps.parse(['2026-03-01T00:00:00', bad])

    def test_to_grid_on_dicts_and_samples(self):
        series = [random_series(self.rng, 500, styles=self.STYLES)
                  for _ in range(6)] + [None, {}]
        count = 900
        expected = np.array([reference_to_grid(one, START, STEP, count)
                             for one in series])
        converted = timestamps.samples_many(series)
        for row, one in enumerate(series):
            self.assertSameArrays(expected[row],
                                  fit.to_grid(one, START, STEP, count))
        self.assertSameArrays(expected, fit.to_grid_many(
            converted, START, STEP, count))
        old_chunk = fit.GRID_CHUNK_SAMPLES
        fit.GRID_CHUNK_SAMPLES = 700                 # several chunks
        try:
            self.assertSameArrays(expected, fit.to_grid_many(
                series, START, STEP, count))
        finally:
            fit.GRID_CHUNK_SAMPLES = old_chunk

    def test_to_grid_on_series_sharing_their_timestamps(self):
        # one sample per bucket (copied in) and several (averaged)
        for spacing in (STEP, 60):
            stamps = [_text(START + 13 + spacing * index, 0)
                      for index in range(-5, 400)]
            series = [dict(zip(stamps, self.rng.uniform(0, 100, 405)))
                      for _ in range(5)]
            series[1][stamps[7]] = math.inf
            series[2][stamps[9]] = 'n/a'
            series.append({stamp: 1.0 for stamp in stamps[:50]})
            converted = timestamps.samples_many(series)
            self.assertIs(converted[0].times, converted[4].times)
            expected = np.array([reference_to_grid(one, START, STEP, 300)
                                 for one in series])
            self.assertSameArrays(expected, fit.to_grid_many(
                converted, START, STEP, 300))

    def test_cpu_counter_to_percent_with_resets(self):
        # text and datetimes are not mixed: the reference cannot sort them
        for vcpus, styles in ((1, (0, 1, 2, 3)), (4, (0, 1, 2, 3)),
                              (0, (4,))):
            counter = random_series(self.rng, 400, counter=True,
                                    styles=styles)
            expected = reference_cpu_percent(counter, vcpus)
            actual = collect.cpu_percent_series(counter, vcpus)
            self.assertEqual(
                sorted((math.floor(reference_epoch(stamp)), value)
                       for stamp, value in expected.items()),
                sorted(zip(actual.times.tolist(),
                           actual.values.tolist())))
            self.assertSameArrays(
                reference_to_grid(expected, START, STEP, 900),
                fit.to_grid(actual, START, STEP, 900))

    def test_gnocchi_series_become_percent_others_stay(self):
        counter = random_series(self.rng, 100, counter=True)
        gnocchi = type('Gnocchi', (), {'NAME': 'gnocchi'})()
        other = type('Other', (), {'NAME': 'prometheus'})()
        percent = collect.as_cpu_percent(gnocchi, counter, 2)
        self.assertEqual(len(reference_cpu_percent(counter, 2)),
                         len(percent))
        same = collect.as_cpu_percent(other, counter, 2)
        self.assertSameArrays(reference_to_grid(counter, START, STEP, 300),
                              fit.to_grid(same, START, STEP, 300))

    def test_join_series(self):
        for granularity in (300, 600, 450.0):
            power = random_series(self.rng, 600, styles=self.STYLES)
            util = random_series(self.rng, 600, styles=self.STYLES)
            expected_util, expected_power = reference_join(power, util,
                                                           granularity)
            actual_util, actual_power = fit.join_series(
                timestamps.samples(power), util, granularity)
            self.assertGreater(len(expected_util), 10)
            self.assertSameArrays(expected_util, actual_util)
            self.assertSameArrays(expected_power, actual_power)

    def test_history_matrix(self):
        uuids = ['u%d' % index for index in range(7)]
        series = {uuid: random_series(self.rng, 800, styles=self.STYLES)
                  for uuid in uuids[:-1]}           # the last has none
        end = datetime.datetime.fromtimestamp(START + 3 * 86400 + 1234, UTC)
        window = 3 * 86400
        settings = dict(window=window, step=STEP, slot_minutes=60,
                        horizon=4)
        got = history.matrix(series, uuids, end, **settings)
        # the window ends at the step boundary at or before "now" and
        # begins at the start of the (hour) slot that holds its start
        window_end = datetime.datetime.fromtimestamp(
            end.timestamp() // STEP * STEP, UTC)
        start = (window_end.timestamp() - window) // 3600 * 3600
        expected_grid = np.array([reference_to_grid(
            series.get(uuid), start, STEP,
            int(window_end.timestamp() - start) // STEP) for uuid in uuids])
        # the slot means of the reference grid, as day_matrix makes them
        from heatwatcher.forecast import backtest
        expected, _ = backtest.day_matrix(
            expected_grid, datetime.datetime.fromtimestamp(start, UTC),
            STEP, 60)
        flat = expected.reshape(len(uuids), -1)
        flat[:, got.now:] = np.nan
        self.assertSameArrays(flat, got.y.reshape(len(uuids), -1)[
            :, :flat.shape[1]])
        converted = dict(zip(series, timestamps.samples_many(
            list(series.values()))))
        self.assertSameArrays(got.y, history.matrix(
            converted, uuids, end, **settings).y)
