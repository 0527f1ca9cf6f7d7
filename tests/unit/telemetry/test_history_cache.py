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

import datetime
import os
import shutil
import tempfile
import unittest
from unittest import mock

import numpy as np

from heatwatcher.telemetry import collect
from heatwatcher.telemetry import history_cache
from heatwatcher.telemetry import history_store
from heatwatcher import timestamps
from tests.unit import telemetry as telemetry_tests
from tests.unit.telemetry import test_collect

UTC = datetime.timezone.utc
STEP = 300
# 2026-01-01 00:00 UTC, a multiple of every step used here
ORIGIN = 1767225600


def at(seconds):
    return datetime.datetime.fromtimestamp(ORIGIN + seconds, tz=UTC)


class Telemetry:
    """A datasource's measures, ``value(key, t)`` every STEP seconds.

    ``processed_until`` (epoch s) hides later measures, as a metricd
    backlog does; ``missing`` keys have no measures at all.
    """

    NAME = 'fake'

    def __init__(self):
        self.processed_until = None
        self.missing = set()
        self.calls = []   # (sorted keys, start epoch s, end epoch s)

    @staticmethod
    def value(key, t):
        return float(sum(map(ord, key)) % 97 + (t // STEP) % 13)

    def series(self, key, start, end):
        # as Gnocchi: from the point whose interval holds ``start``
        first = start // STEP * STEP
        last = end if self.processed_until is None else min(
            end, self.processed_until)
        times = np.arange(first, last + 1, STEP, dtype=np.int64)
        return timestamps.Samples(
            times, np.array([self.value(key, t) for t in times], float))


def reader(datasource, resources, resource_type, metric, start, end,
           granularity, what, resample=None):
    """A read_metric over :class:`Telemetry` that records its calls."""
    first, last = int(start.timestamp()), int(end.timestamp())
    datasource.calls.append((sorted(resources), first, last))
    out = {}
    for key in resources:
        samples = datasource.series(key, first, last)
        if key not in datasource.missing and len(samples):
            out[key] = samples
    return out, []


def whole(keys, start, end):
    """What a whole read of ``keys`` over ``[start, end]`` gives."""
    return reader(Telemetry(), dict.fromkeys(keys), 'instance',
                  'instance_cpu_usage', at(start), at(end), STEP, '')[0]


def read(cache, telemetry, keys, start, end):
    return cache.read(reader, telemetry, {key: None for key in keys},
                      'instance', 'instance_cpu_usage', at(start), at(end),
                      STEP, 'instances')


class TestSeriesCache(telemetry_tests.SameSeriesMixin, unittest.TestCase):

    def setUp(self):
        self.telemetry = Telemetry()
        self.cache = history_cache.SeriesCache(overlap=3600)

    def test_next_read_asks_only_for_what_is_new_and_equals_a_whole_read(self):
        day = 86400
        read(self.cache, self.telemetry, ['a', 'b'], 0, 14 * day)
        got, notes = read(self.cache, self.telemetry, ['a', 'b'], 3600,
                          14 * day + 3600)
        self.assertEqual((['a', 'b'], ORIGIN + 14 * day - 3600,
                          ORIGIN + 14 * day + 3600),
                         self.telemetry.calls[-1])
        self.assertSameSeries(whole(['a', 'b'], 3600, 14 * day + 3600),
                              got)
        self.assertIn('2 of 2 instances from series kept', notes[0])

    def test_a_window_starting_inside_a_step_keeps_that_step_s_point(self):
        read(self.cache, self.telemetry, ['a'], 0, 86400)
        got, _ = read(self.cache, self.telemetry, ['a'], 3700, 90100)
        self.assertSameSeries(whole(['a'], 3700, 90100), got)
        self.assertEqual(ORIGIN + 3600, got['a'].times[0])

    def test_measures_processed_late_within_the_overlap_are_read(self):
        self.telemetry.processed_until = ORIGIN + 7200 - 2 * STEP
        read(self.cache, self.telemetry, ['a'], 0, 7200)
        self.telemetry.processed_until = None
        got, _ = read(self.cache, self.telemetry, ['a'], 600, 7800)
        self.assertSameSeries(whole(['a'], 600, 7800), got)

    def test_resume_point_is_a_multiple_of_the_resampling(self):
        self.cache.overlap = 1000
        self.cache.read(reader, self.telemetry, {'a': None}, 'instance',
                        'instance_cpu_usage', at(0), at(86400), STEP, '',
                        resample=(1200, 'min'))
        self.cache.read(reader, self.telemetry, {'a': None}, 'instance',
                        'instance_cpu_usage', at(1200), at(86400 + 1300),
                        STEP, '', resample=(1200, 'min'))
        # 86400 - 1000 rounded down to a slot of 1200 s
        self.assertEqual(ORIGIN + 85200, self.telemetry.calls[-1][1])

    def test_a_resource_seen_first_is_read_whole_the_others_from_the_cache(
            self):
        read(self.cache, self.telemetry, ['a'], 0, 86400)
        got, _ = read(self.cache, self.telemetry, ['a', 'new'], 3600,
                      86400 + 3600)
        self.assertEqual([(['new'], ORIGIN + 3600, ORIGIN + 90000),
                          (['a'], ORIGIN + 82800, ORIGIN + 90000)],
                         self.telemetry.calls[1:])
        self.assertSameSeries(whole(['a', 'new'], 3600, 90000), got)

    def test_a_window_that_starts_before_what_is_kept_is_read_whole(self):
        read(self.cache, self.telemetry, ['a'], 3600, 86400)
        got, _ = read(self.cache, self.telemetry, ['a'], 0, 90000)
        self.assertEqual((['a'], ORIGIN, ORIGIN + 90000),
                         self.telemetry.calls[-1])
        self.assertSameSeries(whole(['a'], 0, 90000), got)

    def test_a_clock_that_went_back_reads_whole(self):
        read(self.cache, self.telemetry, ['a'], 3600, 90000)
        read(self.cache, self.telemetry, ['a'], 3600, 86400)
        self.assertEqual((['a'], ORIGIN + 3600, ORIGIN + 86400),
                         self.telemetry.calls[-1])

    def test_a_resource_missing_from_the_new_read_is_dropped(self):
        read(self.cache, self.telemetry, ['a', 'b'], 0, 86400)
        self.telemetry.missing = {'b'}
        got, notes = read(self.cache, self.telemetry, ['a', 'b'], 3600,
                          90000)
        # what was kept is still this audit's
        kept = whole(['b'], 3600, 86400)['b']
        np.testing.assert_array_equal(kept.times, got['b'].times)
        self.assertIn('1 instances had no new data', notes[-1])
        self.telemetry.missing = set()
        read(self.cache, self.telemetry, ['a', 'b'], 7200, 93600)
        self.assertIn((['b'], ORIGIN + 7200, ORIGIN + 93600),
                      self.telemetry.calls)

    def test_a_resource_without_data_is_not_kept(self):
        self.telemetry.missing = {'b'}
        read(self.cache, self.telemetry, ['a', 'b'], 0, 86400)
        self.assertEqual(1, self.cache.resources_kept())

    def test_series_no_read_asks_for_during_a_window_are_forgotten(self):
        read(self.cache, self.telemetry, ['a', 'b'], 0, 86400)
        read(self.cache, self.telemetry, ['a'], 3600, 90000)
        self.assertEqual(2, self.cache.resources_kept())
        read(self.cache, self.telemetry, ['a'], 86400 + 3600, 2 * 86400 + 7200)
        self.assertEqual(1, self.cache.resources_kept())

    def test_metrics_and_resamplings_are_kept_apart(self):
        read(self.cache, self.telemetry, ['a'], 0, 86400)
        self.cache.read(reader, self.telemetry, {'a': None}, 'instance',
                        'instance_cpu_usage', at(0), at(86400), STEP, '',
                        resample=(1200, 'min'))
        self.assertEqual(2, len(self.telemetry.calls))
        self.assertEqual(ORIGIN, self.telemetry.calls[-1][1])

    def test_kept_points_stay_within_the_window(self):
        read(self.cache, self.telemetry, ['a'], 0, 86400)
        for hour in range(1, 30):
            read(self.cache, self.telemetry, ['a'], hour * 3600,
                 86400 + hour * 3600)
        self.assertEqual(86400 // STEP + 1, self.cache.points_kept())


class TestSavedSeries(telemetry_tests.SameSeriesMixin, unittest.TestCase):
    """Series saved in a directory serve a restarted process."""

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='kept-series-')
        self.addCleanup(shutil.rmtree, self.directory)
        self.telemetry = Telemetry()

    def cache(self):   # a new process's cache
        return history_cache.SeriesCache(overlap=3600,
                                         directory=self.directory)

    def files(self):
        return sorted(name for name in os.listdir(self.directory))

    def test_a_restarted_process_reads_only_what_is_new(self):
        day = 86400
        read(self.cache(), self.telemetry, ['a', 'b'], 0, 14 * day)
        self.assertEqual(1, len(self.files()))
        self.assertTrue(self.files()[0].startswith('series-'))
        got, notes = read(self.cache(), self.telemetry, ['a', 'b', 'c'],
                          3600, 14 * day + 3600)
        # 'c' is new: read whole; 'a' and 'b' from the saved series
        self.assertEqual([(['c'], ORIGIN + 3600, ORIGIN + 14 * day + 3600),
                          (['a', 'b'], ORIGIN + 14 * day - 3600,
                           ORIGIN + 14 * day + 3600)],
                         self.telemetry.calls[1:])
        self.assertSameSeries(whole(['a', 'b', 'c'], 3600, 14 * day + 3600),
                              got)
        self.assertEqual('instance_cpu_usage: 2 series kept by an earlier '
                         'decision engine process loaded from %s'
                         % history_store.path(self.directory, self.read_key()),
                         notes[0])
        # the save after that read holds all three
        saved = history_store.load(self.directory, self.read_key())
        self.assertEqual(['a', 'b', 'c'], sorted(saved))
        self.assertEqual(ORIGIN + 14 * day + 3600, saved['c'][3])

    def read_key(self):
        return history_cache.series_key(self.telemetry, 'instance',
                                        'instance_cpu_usage', STEP)

    def test_saved_series_are_loaded_once_then_kept_in_memory(self):
        read(self.cache(), self.telemetry, ['a'], 0, 86400)
        cache = self.cache()
        _, notes = read(cache, self.telemetry, ['a'], 600, 87000)
        self.assertIn('loaded from', notes[0])
        os.unlink(os.path.join(self.directory, self.files()[0]))
        _, notes = read(cache, self.telemetry, ['a'], 1200, 87600)
        self.assertNotIn('loaded from', ' '.join(notes))
        self.assertEqual(ORIGIN + 87000 - 3600, self.telemetry.calls[-1][1])

    def test_an_unusable_file_is_reported_read_whole_and_replaced(self):
        read(self.cache(), self.telemetry, ['a'], 0, 86400)
        saved = os.path.join(self.directory, self.files()[0])
        with open(saved, 'wb') as damaged:
            damaged.write(b'not an archive')
        got, notes = read(self.cache(), self.telemetry, ['a'], 600, 87000)
        self.assertEqual((['a'], ORIGIN + 600, ORIGIN + 87000),
                         self.telemetry.calls[-1])
        self.assertTrue(notes[0].startswith(
            'instance_cpu_usage: kept series in %s not used (' % saved),
            notes)
        self.assertTrue(notes[0].endswith('); the series are read whole'),
                        notes)
        self.assertEqual(['a'], sorted(history_store.load(
            self.directory, self.read_key())))

    def test_a_file_of_another_version_or_read_is_not_used(self):
        history_store.save(self.directory, self.read_key(), {
            'a': (np.array([ORIGIN]), np.array([1.0]), ORIGIN, ORIGIN)})
        with mock.patch.object(history_store, 'VERSION', 2):
            with self.assertRaisesRegex(history_store.StoreError,
                                        'version 1, expected 2'):
                history_store.load(self.directory, self.read_key())
        other = os.path.join(self.directory, 'other.npz')
        os.rename(history_store.path(self.directory, self.read_key()), other)
        with mock.patch.object(history_store, 'path',
                               return_value=other):
            with self.assertRaisesRegex(history_store.StoreError,
                                        'it holds another read'):
                history_store.load(self.directory, ('another',))

    def test_nothing_is_written_without_a_directory(self):
        cache = history_cache.SeriesCache(overlap=3600)
        read(cache, self.telemetry, ['a'], 0, 86400)
        self.assertEqual([], self.files())

    def test_a_failed_save_is_a_note_not_a_failure(self):
        with mock.patch.object(history_store, 'save',
                               side_effect=OSError(28, 'No space left')):
            got, notes = read(self.cache(), self.telemetry, ['a'], 0, 86400)
        self.assertEqual(['a'], list(got))
        self.assertIn('instance_cpu_usage: kept series not saved in %s '
                      '([Errno 28] No space left); a restarted decision '
                      'engine will read them whole' % self.directory, notes)


class CounterDataSource:
    """Watcher-like datasource whose instance CPU series is a counter.

    ``statistic_series`` answers ``{datetime: ns}`` of the CPU time of
    instances using 25 % of 2 vCPUs, then 75 % from ``change`` on.
    """

    NAME = 'gnocchi'   # cumulative CPU series, read per resource

    def __init__(self, now, change):
        self.now = now
        self.change = change
        self.requests = 0

    def statistic_series(self, resource, resource_type, meter_name,
                         start_time, end_time, granularity):
        self.requests += 1
        first = int(start_time.timestamp()) // granularity * granularity
        if first < int(start_time.timestamp()):
            first += granularity
        out = {}
        for t in range(first, int(end_time.timestamp()) + 1, granularity):
            before = min(t, self.change) - ORIGIN
            after = max(t - self.change, 0)
            out[datetime.datetime.fromtimestamp(t, tz=UTC)] = (
                (before * 0.5 + after * 1.5) * 1e9)
        return out


class TestInstanceSeriesThroughTheCache(unittest.TestCase):

    def test_cached_history_gives_the_whole_read_s_percents(self):
        model = test_collect.model([('h', 'up', 'enabled', ['i1', 'i2'])])
        change = ORIGIN + 2 * 86400 + 1800
        cache = history_cache.SeriesCache(overlap=3600)
        source = CounterDataSource(at(2 * 86400), change)
        collect.instance_series(source, model, ['i1', 'i2'], 2 * 86400,
                                STEP, slot=1200, cache=cache)
        source.now = at(2 * 86400 + 7200)
        got, _, notes = collect.instance_series(
            source, model, ['i1', 'i2'], 2 * 86400, STEP, slot=1200,
            cache=cache)
        whole, _, _ = collect.instance_series(
            CounterDataSource(source.now, change), model, ['i1', 'i2'],
            2 * 86400, STEP, slot=1200)
        for uuid in ('i1', 'i2'):
            np.testing.assert_array_equal(whole[uuid].times,
                                          got[uuid].times)
            np.testing.assert_allclose(whole[uuid].values, got[uuid].values,
                                       rtol=1e-12)
        self.assertEqual({25.0, 75.0}, set(np.round(got['i1'].values, 9)))
        self.assertTrue(any('from series kept' in note for note in notes))
