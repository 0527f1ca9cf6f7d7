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
"""Series read by earlier audits of this process, extended with what is new.

A heat_consolidation audit reads weeks of history (the forecast's slot means
over ``forecast_window``, host power and CPU over ``fit_window``), and the
audits of a CONTINUOUS audit an hour apart read almost the same weeks again:
on Gnocchi that is most of the audit's time (see
``doc/source/benchmarks/watcher_audit.md``). :class:`SeriesCache` keeps each
resource's series in the decision engine's memory and, at the next read of
the same metric, asks the datasource only for the part after the previous
read's end, less ``overlap`` seconds read again for the measures the
datasource had not processed yet then (gnocchi-metricd's backlog).

The merged series is what a full read of the window would return as long as
the datasource does not change measures older than ``overlap`` before the
previous read's end. A resource seen for the first time, a read whose window
starts before what is kept, or a clock that went back reads the whole window.
A resource that had data before and is missing from an incremental read
(its data gone, or its read failed) is dropped from the cache, so that the
next audit reads it whole. Resources without any data are not kept.

Memory: 16 bytes a point (int64 time, float64 value). 10,000 instances with
14 days of 20-minute slot means are about 160 MB; 1,000 hosts with 7 days of
5-minute power and CPU series about 65 MB more.

With a ``directory`` (``[heatwatcher] state_path``), each read's kept
series are also saved there after the read (:mod:`.history_store`, the same
size on disk), and the first read of a metric in a new process starts from
the saved series: the first audit after a decision engine restart reads
only what came after the last audit before it, as the next audit of the
same process would. The rules above decide what saved series serve; a file
that cannot be used is reported in a note and the series are read whole.
"""

import dataclasses
import datetime
import threading

import numpy as np
from oslo_log import log

from heatwatcher.telemetry import history_store
from heatwatcher import timestamps

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class _Entry:
    """One resource's kept series.

    :ivar samples: :class:`~heatwatcher.timestamps.Samples` from ``start``.
    :ivar start: epoch s, the start of the window that was read.
    :ivar end: epoch s, the end of the last read.
    """

    samples: timestamps.Samples
    start: int
    end: int


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def _since(samples, seconds):
    """The part of ``samples`` at or after ``seconds``."""
    keep = samples.times >= seconds
    if keep.all():
        return samples
    return timestamps.Samples(samples.times[keep], samples.values[keep])


def _joined(older, newer, seconds):
    """``older`` before ``seconds``, then ``newer`` (from ``seconds``)."""
    before = older.times < seconds
    return timestamps.Samples(
        np.concatenate([older.times[before], newer.times]),
        np.concatenate([older.values[before], newer.values]))


def source_key(datasource):
    """What tells one datasource from another in this process."""
    kind = type(datasource)
    return (kind.__module__, kind.__qualname__,
            getattr(datasource, 'NAME', None))


def series_key(datasource, resource_type, metric, granularity,
               resample=None):
    """What one read's kept series are kept (and saved) under."""
    return (source_key(datasource), resource_type, metric, int(granularity),
            tuple(resample or ()))


class SeriesCache:
    """Series kept between reads; see the module's description.

    Thread-safe: Watcher's decision engine may run audits at once. Two
    audits reading the same metric at the same time both read what they
    miss; the last to finish is kept.

    :param overlap: seconds before the previous read's end read again.
    :param directory: None, or where kept series are saved and, on a
        metric's first read in this process, loaded from.
    """

    def __init__(self, overlap=3600, directory=None):
        self.overlap = int(overlap)
        self.directory = directory
        self._lock = threading.Lock()
        self._series = {}  # read key -> {resource key: _Entry}

    def _load(self, read_key, metric):
        """Saved series of ``read_key``, on its first read; notes.

        Only while this process keeps nothing for ``read_key``: every read
        keeps its result (:meth:`_keep`), so later reads use memory.
        """
        directory = self.directory
        with self._lock:
            if not directory or read_key in self._series:
                return []
        try:
            saved = history_store.load(directory, read_key)
        except history_store.StoreError as exc:
            return ['%s: kept series in %s not used (%s); the series are '
                    'read whole' % (metric, history_store.path(
                        directory, read_key), exc)]
        if not saved:
            return []
        entries = {key: _Entry(timestamps.Samples(times, values), start, end)
                   for key, (times, values, start, end) in saved.items()}
        with self._lock:
            if read_key in self._series:   # another audit's read came first
                return []
            self._series[read_key] = entries
        return ['%s: %d series kept by an earlier decision engine process '
                'loaded from %s' % (metric, len(entries), history_store.path(
                    directory, read_key))]

    def _save(self, read_key, metric):
        """Save the series kept for ``read_key``; notes (a failure)."""
        directory = self.directory
        if not directory:
            return []
        with self._lock:
            kept = dict(self._series.get(read_key, {}))
        try:
            history_store.save(directory, read_key, {
                key: (entry.samples.times, entry.samples.values, entry.start,
                      entry.end) for key, entry in kept.items()})
        except OSError as exc:
            LOG.warning('%s: kept series not saved in %s: %s', metric,
                        directory, exc)
            return ['%s: kept series not saved in %s (%s); a restarted '
                    'decision engine will read them whole'
                    % (metric, directory, exc)]
        return []

    def resources_kept(self):
        """Number of series kept, over all metrics."""
        with self._lock:
            return sum(len(kept) for kept in self._series.values())

    def points_kept(self):
        with self._lock:
            return sum(len(entry.samples) for kept in self._series.values()
                       for entry in kept.values())

    def _resume_at(self, entry, start, end, step):
        """Where an incremental read of ``entry`` begins, or None (whole)."""
        if entry is None or entry.start > start or entry.end > end:
            return None
        resume = (entry.end - self.overlap) // step * step
        return resume if resume > start else None

    def read(self, reader, datasource, resources, resource_type, metric,
             start, end, granularity, what, resample=None):
        """Read ``metric`` of ``resources`` over ``[start, end]``.

        :param reader: the uncached read, with the signature of
            :func:`heatwatcher.telemetry.collect.read_metric`.
        :param resources: ``{key: Watcher resource}``.
        :param start, end: aware datetimes; with ``resample``, ``start`` is
            a multiple of its seconds since the epoch.
        :returns: ``({key: Samples}, notes)``, as ``reader``.
        """
        step = int(resample[0]) if resample else int(granularity)
        read_key = series_key(datasource, resource_type, metric, granularity,
                              resample)
        first = int(timestamps.epoch(start))
        last = int(timestamps.epoch(end))
        # Gnocchi answers from the point whose interval holds ``start``
        # (its start rounded down to the granularity): keep that point too.
        kept_from = first // int(granularity) * int(granularity)
        loaded = self._load(read_key, metric)
        with self._lock:
            kept = dict(self._series.get(read_key, {}))
        resume_groups, whole = {}, {}
        for key, resource in resources.items():
            resume = self._resume_at(kept.get(key), first, last, step)
            if resume is None:
                whole[key] = resource
            else:
                resume_groups.setdefault(resume, {})[key] = resource
        out, notes = {}, list(loaded)
        if whole:
            read, more = reader(datasource, whole, resource_type, metric,
                                start, end, granularity, what,
                                resample=resample)
            out.update(read)
            notes += more
        dropped = []
        for resume, group in sorted(resume_groups.items()):
            read, more = reader(datasource, group, resource_type, metric,
                                _utc(resume), end, granularity, what,
                                resample=resample)
            notes += more
            for key in group:
                older = _since(kept[key].samples, kept_from)
                if key in read:
                    out[key] = _joined(older, read[key], resume)
                else:
                    dropped.append(key)
                    if len(older):
                        out[key] = older
            notes.append(
                '%s: %d of %d %s from series kept since an earlier audit '
                '(read again from %s UTC, %d s before the last read\'s '
                'end)' % (metric, len(group), len(resources), what,
                          _utc(resume).strftime('%Y-%m-%d %H:%M'),
                          self.overlap))
        if dropped:
            notes.append('%s: %d %s had no new data; their kept series '
                         'are dropped and will be read whole next time'
                         % (metric, len(dropped), what))
        self._keep(read_key, out, set(resources), dropped, first, last)
        notes += self._save(read_key, metric)
        return out, notes

    def _keep(self, read_key, out, requested, dropped, first, last):
        with self._lock:
            kept = self._series.setdefault(read_key, {})
            for key in dropped:
                kept.pop(key, None)
            for key, samples in out.items():
                if key not in dropped and len(samples):
                    kept[key] = _Entry(samples, first, last)
            # Series that no read has asked for over a whole window (last
            # read before this window's start) are no longer any audit's.
            stale = [key for key, entry in kept.items()
                     if key not in requested and entry.end < first]
            for key in stale:
                del kept[key]


_PROCESS_CACHE = SeriesCache()


def process_cache(overlap, directory=None):
    """This process's :class:`SeriesCache`.

    :param overlap: seconds read again; :param directory: where kept
        series are saved (None: kept in memory only).
    """
    _PROCESS_CACHE.overlap = int(overlap)
    _PROCESS_CACHE.directory = directory
    return _PROCESS_CACHE
