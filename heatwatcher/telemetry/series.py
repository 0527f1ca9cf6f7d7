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
"""A Watcher datasource that serves metric series held in memory.

It implements Watcher's datasource interface (``statistic_aggregation``,
``statistic_series`` and the ``get_*`` helpers) on regularly sampled series,
so a strategy cannot tell it from Gnocchi. The offline tools and the tests
load it with recorded or generated telemetry.

Resources are keyed as Gnocchi keys them for Watcher: instances by uuid,
compute nodes by hostname.
"""

import datetime

import numpy as np
from watcher.decision_engine.datasources import base

from heatwatcher import timestamps

UTC = datetime.timezone.utc


class Series:
    """Samples every ``step`` seconds from ``start`` (aware datetime).

    ``values`` may hold ``None``/NaN for missing samples.
    """

    def __init__(self, start, step, values):
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.start = start
        self.step = float(step)
        self.values = np.array([np.nan if v is None else v for v in values],
                               dtype=float)

    @property
    def end(self):
        return self.start + datetime.timedelta(
            seconds=self.step * len(self.values))

    def window(self, begin, end):
        """Timestamps (s since epoch) and values inside ``[begin, end)``."""
        t0 = self.start.timestamp()
        t = t0 + self.step * np.arange(len(self.values))
        mask = (t >= begin.timestamp()) & (t < end.timestamp())
        return t[mask], self.values[mask]


def _resample(t, v, granularity):
    """Mean per ``granularity`` bucket, as Gnocchi's archive policy does."""
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if granularity is None or len(t) == 0:
        return t, v
    buckets = np.floor(t / granularity) * granularity
    steps = np.diff(buckets)
    if np.all(steps >= 0):       # sorted, as windows of a Series are
        first = np.concatenate([[True], steps > 0])
        keys, inverse = buckets[first], np.cumsum(first) - 1
    else:
        keys, inverse = np.unique(buckets, return_inverse=True)
    sums = np.bincount(inverse, weights=v)
    counts = np.bincount(inverse)
    return keys, sums / counts


def _iso_texts(times):
    """``datetime.isoformat`` (UTC, ``+00:00``) of ``(n,)`` epoch seconds.

    Whole seconds are formatted by numpy at once; others one by one.
    """
    times = np.asarray(times, dtype=float)
    if np.all(times == np.floor(times)):
        naive = np.datetime_as_string(times.astype('datetime64[s]'),
                                      unit='s')
        return np.char.add(naive, '+00:00').tolist()
    return [datetime.datetime.fromtimestamp(ts, UTC).isoformat()
            for ts in times.tolist()]


class SeriesDataSource(base.DataSourceBase):
    """Datasource over in-memory :class:`Series`.

    :param series: ``{metric name: {resource key: Series}}`` with Watcher's
        metric names (``instance_cpu_usage``, ``host_power``, ...).
    :param now: the time the "last ``period`` seconds" end at (default: the
        latest end of any series).
    """

    NAME = 'heatwatcher_series'
    METRIC_MAP = {name: name for name in base.DataSourceBase.METRIC_MAP}

    def __init__(self, series, now=None):
        super().__init__()
        self.series = series
        ends = [s.end for per in series.values() for s in per.values()]
        self.now = now or (max(ends) if ends else datetime.datetime.now(UTC))
        self._texts = (np.zeros(0), [])

    @staticmethod
    def _key(resource, resource_type):
        if resource_type == 'compute_node':
            return resource.hostname
        return resource.uuid

    def query_retry_reset(self, exception_instance):
        pass

    def list_metrics(self):
        return set(self.series)

    def check_availability(self):
        return 'available'

    def _lookup(self, resource, resource_type, meter_name):
        self._get_meter(meter_name)
        return self.series.get(meter_name, {}).get(
            self._key(resource, resource_type))

    def _statistic_aggregation(self, resource=None, resource_type=None,
                               meter_name=None, period=300, aggregate='mean',
                               granularity=300):
        series = self._lookup(resource, resource_type, meter_name)
        if series is None:
            return None
        begin = self.now - datetime.timedelta(seconds=float(period))
        _, v = _resample(*series.window(begin, self.now), granularity)
        if len(v) == 0:
            return None
        if aggregate == 'count':
            return float(len(v))
        func = {'mean': np.mean, 'min': np.min, 'max': np.max}.get(aggregate)
        if func is None:
            raise ValueError('aggregate %r is not one of %s'
                             % (aggregate, self.AGGREGATES))
        return float(func(v))

    def statistic_series(self, resource=None, resource_type=None,
                         meter_name=None, start_time=None, end_time=None,
                         granularity=300):
        series = self._lookup(resource, resource_type, meter_name)
        if series is None:
            return None
        start_time = start_time or series.start
        end_time = end_time or self.now
        t, v = _resample(*series.window(start_time, end_time), granularity)
        # Series of one read share their timestamps: format them once.
        cached_times, texts = self._texts
        if not np.array_equal(cached_times, t):
            texts = _iso_texts(t)
            self._texts = (t, texts)
        return dict(zip(texts, v.tolist()))

    def bulk_series(self, resources, resource_type, meter_name, start_time,
                    end_time, granularity=300):
        """:meth:`statistic_series` of many resources, as arrays.

        The same samples as :meth:`statistic_series` gives, without the
        ``{timestamp: value}`` round trip.

        :param resources: ``{key: Watcher resource}``.
        :returns: ``{key: Samples}`` for the resources with data
            (:class:`~heatwatcher.timestamps.Samples`).
        """
        out = {}
        shared_times, shared_seconds = np.zeros(0), timestamps.EMPTY.times
        for key, resource in resources.items():
            series = self._lookup(resource, resource_type, meter_name)
            if series is None:
                continue
            begin = start_time or series.start
            end = end_time or self.now
            times, values = _resample(*series.window(begin, end),
                                      granularity)
            if not len(times):
                continue
            if not np.array_equal(times, shared_times):
                # resources of one read usually share their times: one copy
                shared_times = times
                shared_seconds = np.floor(times).astype(np.int64)
            out[key] = timestamps.Samples(shared_seconds,
                                          values.astype(float))
        return out

    def _host(self, meter, resource, period, aggregate, granularity):
        return self.statistic_aggregation(resource, 'compute_node', meter,
                                          period, aggregate, granularity)

    def _instance(self, meter, resource, period, aggregate, granularity):
        return self.statistic_aggregation(resource, 'instance', meter,
                                          period, aggregate, granularity)

    def get_host_cpu_usage(self, resource, period, aggregate,
                           granularity=300):
        return self._host('host_cpu_usage', resource, period, aggregate,
                          granularity)

    def get_host_ram_usage(self, resource, period, aggregate,
                           granularity=300):
        return self._host('host_ram_usage', resource, period, aggregate,
                          granularity)

    def get_host_outlet_temp(self, resource, period, aggregate,
                             granularity=300):
        return self._host('host_outlet_temp', resource, period, aggregate,
                          granularity)

    def get_host_inlet_temp(self, resource, period, aggregate,
                            granularity=300):
        return self._host('host_inlet_temp', resource, period, aggregate,
                          granularity)

    def get_host_airflow(self, resource, period, aggregate, granularity=300):
        return self._host('host_airflow', resource, period, aggregate,
                          granularity)

    def get_host_power(self, resource, period, aggregate, granularity=300):
        return self._host('host_power', resource, period, aggregate,
                          granularity)

    def get_instance_cpu_usage(self, resource, period, aggregate,
                               granularity=300):
        return self._instance('instance_cpu_usage', resource, period,
                              aggregate, granularity)

    def get_instance_ram_usage(self, resource, period, aggregate,
                               granularity=300):
        return self._instance('instance_ram_usage', resource, period,
                              aggregate, granularity)

    def get_instance_ram_allocated(self, resource, period, aggregate,
                                   granularity=300):
        return self._instance('instance_ram_allocated', resource, period,
                              aggregate, granularity)

    def get_instance_l3_cache_usage(self, resource, period, aggregate,
                                    granularity=300):
        return self._instance('instance_l3_cache_usage', resource, period,
                              aggregate, granularity)

    def get_instance_root_disk_size(self, resource, period, aggregate,
                                    granularity=300):
        return self._instance('instance_root_disk_size', resource, period,
                              aggregate, granularity)
