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
"""Read one metric for many resources at once from Gnocchi.

Watcher's Gnocchi datasource reads a series with one request per resource
(two per host: a resource search, then the measures). This module reads the
same series for all the audit's resources with few requests, through the
client and session of Watcher's datasource (``datasource.gnocchi``):

1. hosts only: a resource search (``POST /v1/search/resource/generic``) per
   chunk of hosts finds their Gnocchi ids and which of them have the
   metric, by ``original_resource_id`` ``<hostname>_<hostname>``, as Watcher
   searches them (the first match in Gnocchi's default order, as Watcher's
   ``limit=1`` takes). Instances need no search: their Gnocchi id is their
   uuid, which is what Watcher reads them by;
2. ``POST /v1/aggregates?groupby=id`` with a search on those ids and the
   operation ``(metric <name> mean)`` reads their series, in chunks of at
   most ``max_ids`` resources and ``max_points`` points per request, up to
   ``concurrency`` requests at a time (Gnocchi's API serves them in its
   several workers while this process parses the answers). Gnocchi leaves
   out the resources that do not have the metric (and answers 404 "Metric
   ... does not exist" when none of a chunk has it); a metric without
   measures processed yet (a new instance) answers an empty series. It
   refuses the whole request when one resource's metric has an archive
   policy without the granularity (400 "Granularities are missing") or the
   aggregation method (404 "Metrics with unknown aggregation"), as after an
   operator changed the archive policy rules: the chunk is then read again
   in halves down to those resources, which are left out with a note
   (Watcher's own read of them fails the same way).

Values are those of Watcher's ``statistic_series``: the Gnocchi metric named
by the datasource's ``METRIC_MAP`` (for ``instance_cpu_usage`` the raw
``cpu`` counter, converted by the caller), mean aggregation, airflow times
10. The answer is parsed into :class:`~heatwatcher.timestamps.Samples`
without going through a datetime per point.

A Gnocchi that cannot be reached at all (connection refused or timed
out) raises :class:`~heatwatcher.exception.TelemetryUnreachable`, which
fails the audit at once: reading per resource would repeat the failure
with Watcher's retries (``query_max_retries`` x ``query_interval``) for
every resource, and leave the audit ONGOING for as long. A connection
error is only taken as that once a small probe (a one-resource search)
fails too: a connection that a proxy closed under one long aggregates
request (uWSGI's router after its HTTP timeout) leaves Gnocchi answering.
Any other failure raises :class:`BulkReadFailed`; the caller
(:func:`heatwatcher.telemetry.collect.read_metric`) then reads per resource
with a note.
"""

from concurrent import futures
import contextlib
import datetime
import gc
import json
import math
import threading
import urllib.parse

import numpy as np
from oslo_log import log

from heatwatcher import exception
from heatwatcher import timestamps

LOG = log.getLogger(__name__)

NAME = 'gnocchi'
# Bounds of one aggregates request: resources searched, points answered
# (a point is about 50 bytes of JSON: 125,000 points is about 6 MB). At
# 500,000 points a request of 14-day series took over 60 s on a loaded
# 2-core gnocchi-api, past the 60 s HTTP timeout of uWSGI's router.
MAX_IDS_PER_REQUEST = 500
MAX_POINTS_PER_REQUEST = 125000
# Aggregates requests in flight at once (gnocchi-api runs several workers;
# a single-worker API only queues them).
MAX_CONCURRENT_REQUESTS = 4
# Resources per page of the resource search (Gnocchi's max_limit: 1000).
SEARCH_PAGE = 1000
# Watcher's statistic_series scales these metrics (airflow: 1/10 CFM).
SCALE = {'host_airflow': 10.0}
# Resource id searched by the reachability probe (matches nothing).
PROBE_ID = '00000000-0000-0000-0000-000000000000'


class BulkReadFailed(exception.HeatwatcherException):
    """The aggregates API did not give the series (any cause)."""

    msg_fmt = 'bulk read from Gnocchi failed: %(reason)s'


def _connection_errors():
    """Exception classes that mean the service cannot be reached at all."""
    from gnocchiclient import exceptions as gnocchi_exceptions
    from keystoneauth1 import exceptions as ks_exceptions
    return (gnocchi_exceptions.ConnectionFailure,
            gnocchi_exceptions.ConnectionTimeout,
            ks_exceptions.ConnectionError)


def _answers(client):
    """True if Gnocchi answers a one-resource search (any answer)."""
    try:
        client.resource.search(resource_type='generic',
                               query={'=': {'id': PROBE_ID}}, limit=1)
    except _connection_errors():
        return False
    except Exception:   # an error answer is an answer
        return True
    return True


def _failed(exc, client=None):
    """The error to raise for ``exc``: unreachable, or a failed bulk read.

    A connection error means Gnocchi is unreachable unless ``client`` is
    given and Gnocchi still answers a probe: then the connection was lost
    under one request (a proxy's timeout), and per-resource reads may do.
    """
    reason = '%s: %s' % (type(exc).__name__, str(exc)[:160])
    if isinstance(exc, _connection_errors()):
        if client is None or not _answers(client):
            return exception.TelemetryUnreachable(datasource=NAME,
                                                  reason=reason)
        return BulkReadFailed(reason='connection lost during a request '
                              'while Gnocchi still answers (%s)' % reason)
    return BulkReadFailed(reason='%s: %s' % (type(exc).__name__, exc))


def applies(datasource):
    """True when ``datasource`` is Watcher's Gnocchi one, with its client."""
    return (getattr(datasource, 'NAME', None) == NAME
            and getattr(datasource, 'gnocchi', None) is not None)


def _chunks(items, size):
    for begin in range(0, len(items), size):
        yield items[begin:begin + size]


def _search(client, field, values):
    """Resources whose ``field`` is in ``values``, all pages.

    :returns: ``(list of resource dicts, requests made)``
    """
    found, requests, marker = [], 0, None
    while True:
        page = client.resource.search(
            resource_type='generic', query={'in': {field: list(values)}},
            limit=SEARCH_PAGE, marker=marker)
        requests += 1
        found.extend(page)
        if len(page) < SEARCH_PAGE:
            return found, requests
        marker = page[-1]['id']


def _gnocchi_ids(client, resources, resource_type, meter, max_ids):
    """Gnocchi ids of the resources to read.

    Instances are read by their uuid, without a request (Gnocchi leaves
    out of the answer those without ``meter``). Hosts are searched by
    ``original_resource_id``, keeping the first match of each and only
    those that have ``meter``.

    :param resources: ``{key: Watcher resource}``.
    :returns: ``({gnocchi id: key}, requests made)``
    """
    if resource_type != 'compute_node':
        return {str(resource.uuid).lower(): key
                for key, resource in resources.items()}, 0
    wanted = {'%s_%s' % (resource.hostname, resource.hostname): key
              for key, resource in resources.items()}
    by_id, taken, requests = {}, set(), 0
    for chunk in _chunks(list(wanted), max_ids):
        found, made = _search(client, 'original_resource_id', chunk)
        requests += made
        for resource in found:
            key = wanted.get(resource.get('original_resource_id'))
            if key is None or key in taken:
                continue  # Watcher takes the first match only
            taken.add(key)
            if meter in (resource.get('metrics') or {}):
                by_id[str(resource['id'])] = key
    return by_id, requests


# Causes with which Gnocchi refuses a whole aggregates request for what one
# of its resources is: a metric whose archive policy lacks the granularity
# (400) or the aggregation method (404).
REFUSALS = frozenset(['Metrics cannot be aggregated',
                      'Metrics with unknown aggregation'])


def _refusal(exc):
    """Gnocchi's cause if ``exc`` refuses a request for one resource.

    :param exc: a 400 or 404 answer of gnocchiclient.
    :returns: ``'cause: reason'`` for :data:`REFUSALS`, else None.
    """
    message = getattr(exc, 'message', None)
    if isinstance(message, dict) and message.get('cause') in REFUSALS:
        return ': '.join(str(message[part]) for part in ('cause', 'reason')
                         if message.get(part))
    return None


def _series_lists(tree):
    """Every ``[[timestamp, granularity, value], ...]`` list in ``tree``."""
    if isinstance(tree, list):
        return [tree]
    if isinstance(tree, dict):
        return [found for branch in tree.values()
                for found in _series_lists(branch)]
    raise ValueError('unexpected aggregates answer: %r' % (tree,))


def operations(meter, aggregation='mean', resample=None):
    """The aggregates API's operations for ``meter``.

    :param resample: None, or ``(seconds, method)``: Gnocchi resamples the
        series to ``seconds`` with ``method`` (``'min'``, ``'mean'``...).
    """
    metric = '(metric %s %s)' % (meter, aggregation)
    if resample is None:
        return metric
    seconds, method = resample
    return '(resample %s %d %s)' % (method, seconds, metric)


class _CollectorPause:
    """Pauses Python's cyclic garbage collector while answers are parsed.

    An answer is up to :data:`MAX_POINTS_PER_REQUEST` points, each a small
    list when parsed: that many container objects made at once, none of
    them in a reference cycle, set off the collector over and over, and its
    full collections go through every object the process holds (in a
    decision engine, Watcher's compute model too). Paused, the parse takes
    a third of the CPU time (see ``doc/source/benchmarks/gnocchi_reads.md``).
    The pause is shared by the threads parsing at once: the first to begin
    pauses the collector, the last to end resumes it, if it was running.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._parsing = 0
        self._resume = False

    @contextlib.contextmanager
    def paused(self):
        with self._lock:
            if self._parsing == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._parsing += 1
        try:
            yield
        finally:
            with self._lock:
                self._parsing -= 1
                if self._parsing == 0 and self._resume:
                    gc.enable()


_COLLECTOR = _CollectorPause()


def _fetch(client, ids, meter, start, end, granularity, aggregation='mean',
           resample=None):
    """One aggregates request: ``{gnocchi id: (n, 3) object array}``."""
    query = urllib.parse.urlencode({
        'start': start.isoformat(), 'stop': end.isoformat(),
        'granularity': granularity, 'needed_overlap': 0, 'groupby': 'id',
        'details': 'false'})
    body = {'resource_type': 'generic', 'search': {'in': {'id': ids}},
            'operations': operations(meter, aggregation, resample)}
    # JSON errors, which gnocchiclient makes into its typed exceptions
    response = client.api.post('v1/aggregates?%s' % query,
                               headers={'Content-Type': 'application/json',
                                        'Accept': 'application/json'},
                               data=json.dumps(body))
    out = {}
    with _COLLECTOR.paused():
        for group in response.json():
            measures = group['measures']
            if isinstance(measures, dict) and 'measures' in measures:
                measures = measures['measures']   # beside any 'references'
            lists = [points for points in _series_lists(measures) if points]
            if lists:
                out[str(group['group']['id'])] = np.concatenate(
                    [np.array(points, dtype=object).reshape(-1, 3)
                     for points in lists])
    return out


def _fetch_chunk(client, ids, *args):
    """:func:`_fetch` of one chunk, leaving out what Gnocchi cannot read.

    A chunk none of whose resources has the metric gives nothing (Gnocchi
    answers 404 "Metric ... does not exist"). A chunk that Gnocchi refuses
    for one of its resources (:data:`REFUSALS`) is read again in halves,
    down to that resource, which is left out: Watcher's own read of it
    fails the same way and gives no data.

    :returns: ``({gnocchi id: (n, 3) object array}, {id left out: cause},
        requests made)``
    """
    from gnocchiclient import exceptions as gnocchi_exceptions
    try:
        return _fetch(client, ids, *args), {}, 1
    except gnocchi_exceptions.MetricNotFound:
        return {}, {}, 1
    except (gnocchi_exceptions.BadRequest, gnocchi_exceptions.NotFound) as exc:
        cause = _refusal(exc)
        if cause is None:
            raise
        if len(ids) == 1:
            return {}, {ids[0]: cause}, 1
    answers, left_out, requests = {}, {}, 1
    middle = len(ids) // 2
    for half in (ids[:middle], ids[middle:]):
        answered, refused, made = _fetch_chunk(client, half, *args)
        answers.update(answered)
        left_out.update(refused)
        requests += made
    return answers, left_out, requests


def _fetch_all(client, key_of, meter, start, end, granularity, max_ids,
               max_points, aggregation='mean',
               concurrency=MAX_CONCURRENT_REQUESTS, resample=None):
    """Every series of ``key_of``'s ids, in bounded requests.

    At most ``concurrency`` requests are in flight at once. On the first
    failure, requests not yet sent are cancelled and the failure is raised
    once those under way have ended.

    :returns: ``({gnocchi id: (n, 3) object array}, {id left out: Gnocchi's
        cause}, requests made)``
    """
    spacing = resample[0] if resample else granularity
    points_each = int(math.ceil((end - start).total_seconds()
                                / float(spacing))) + 1
    per_request = max(1, min(max_ids, max_points // points_each))
    chunks = list(_chunks(sorted(key_of), per_request))
    answers, left_out, requests = {}, {}, 0
    if not chunks:
        return answers, left_out, requests
    with futures.ThreadPoolExecutor(
            max_workers=max(1, min(concurrency, len(chunks))),
            thread_name_prefix='gnocchi-bulk') as pool:
        pending = [pool.submit(_fetch_chunk, client, chunk, meter, start,
                               end, granularity, aggregation, resample)
                   for chunk in chunks]
        try:
            for future in pending:
                answered, refused, made = future.result()
                answers.update(answered)
                left_out.update(refused)
                requests += made
        except BaseException:
            pool.shutdown(cancel_futures=True)   # no request not yet sent
            raise
    return ({gnocchi_id: points for gnocchi_id, points in answers.items()
             if gnocchi_id in key_of}, left_out, requests)


def _requests(count):
    return '%d request%s' % (count, '' if count == 1 else 's')


def _refused_note(metric, left_out, what):
    """The note for the resources whose series Gnocchi refused to read."""
    causes = sorted(set(left_out.values()))
    return ('%s: %d %s left out of the bulk read, whose metric Gnocchi '
            'cannot read at this granularity and aggregation (%s)'
            % (metric, len(left_out), what, '; '.join(causes)))


def instance_cpu_means(datasource, instances, period, granularity,
                       max_ids=MAX_IDS_PER_REQUEST,
                       max_points=MAX_POINTS_PER_REQUEST,
                       concurrency=MAX_CONCURRENT_REQUESTS):
    """Watcher's ``get_instance_cpu_usage`` (mean) for many instances.

    As Watcher's Gnocchi datasource computes it: the last ``rate:mean`` of
    the ``cpu`` counter over the last ``period`` seconds, negative rates as
    0, in percent of the instance's vCPUs (1 if unset).

    :param instances: ``{key: Watcher instance}`` (``uuid``, ``vcpus``).
    :returns: ``({key: percent}, notes)``; instances without data are
        absent.
    :raises BulkReadFailed: on any other failure.
    :raises: :class:`~heatwatcher.exception.TelemetryUnreachable` if
        Gnocchi cannot be reached.
    """
    try:
        meter = datasource.METRIC_MAP.get('instance_cpu_usage')
        if meter is None:
            raise ValueError('no Gnocchi metric for instance_cpu_usage')
        client = datasource.gnocchi
        end = datetime.datetime.now(datetime.timezone.utc)
        start = end - datetime.timedelta(seconds=int(period))
        key_of, requests = _gnocchi_ids(client, instances, 'instance', meter,
                                        max_ids)
        answers, left_out, more = _fetch_all(
            client, key_of, meter, start, end, granularity, max_ids,
            max_points, aggregation='rate:mean', concurrency=concurrency)
        requests += more
        means = {}
        for gnocchi_id, points in answers.items():
            key = key_of[gnocchi_id]
            rate = max(0.0, float(points[-1, 2]))
            # Watcher's expression, in its order (same rounding)
            rate *= 100 / (granularity * 10e8) / (instances[key].vcpus or 1)
            means[key] = rate
    except Exception as exc:
        raise _failed(exc, getattr(datasource, 'gnocchi', None))
    notes = ['instance_cpu_usage (mean): read in bulk from Gnocchi '
             '(aggregates API, %s for %d instances)'
             % (_requests(requests), len(instances))]
    if left_out:
        notes.append(_refused_note('instance_cpu_usage (mean)',
                                   left_out, 'instances'))
    return means, notes


def read(datasource, resources, resource_type, metric, start, end,
         granularity, what, max_ids=MAX_IDS_PER_REQUEST,
         max_points=MAX_POINTS_PER_REQUEST,
         concurrency=MAX_CONCURRENT_REQUESTS, resample=None):
    """``metric`` of all ``resources`` between ``start`` and ``end``.

    :param datasource: Watcher's Gnocchi datasource (``gnocchi`` client,
        ``METRIC_MAP``).
    :param resources: ``{key: Watcher resource}`` (instances: ``uuid``;
        compute nodes: ``hostname``).
    :param resource_type: ``'instance'`` or ``'compute_node'``.
    :param start, end: aware datetimes; :param granularity: s.
    :param what: the resources' name in notes (``'instances'``).
    :param concurrency: aggregates requests in flight at once.
    :param resample: None, or ``(seconds, method)``: Gnocchi resamples each
        series (read at ``granularity``) to one value every ``seconds``
        with ``method``, stamped at the start of each period; the answer
        is ``granularity / seconds`` as long.
    :returns: ``({key: Samples}, notes)``; resources without the metric or
        without measures are absent (a note counts them).
    :raises BulkReadFailed: on any other failure of the requests or the
        answer.
    :raises: :class:`~heatwatcher.exception.TelemetryUnreachable` if
        Gnocchi cannot be reached.
    """
    try:
        meter = datasource.METRIC_MAP.get(metric)
        if meter is None:
            raise ValueError('no Gnocchi metric for %s' % metric)
        client = datasource.gnocchi
        key_of, requests = _gnocchi_ids(client, resources, resource_type,
                                        meter, max_ids)
        answers, left_out, more = _fetch_all(
            client, key_of, meter, start, end, granularity, max_ids,
            max_points, concurrency=concurrency, resample=resample)
        requests += more
        keys = [key_of[gnocchi_id] for gnocchi_id in answers]
        arrays = list(answers.values())
        converted = timestamps.from_columns(
            [points[:, 0] for points in arrays],
            [points[:, 2] for points in arrays])
    except BulkReadFailed:
        raise
    except Exception as exc:
        raise _failed(exc, getattr(datasource, 'gnocchi', None))
    scale = SCALE.get(metric)
    per = {key: (timestamps.Samples(samples.times, samples.values * scale)
                 if scale else samples)
           for key, samples in zip(keys, converted) if len(samples)}
    notes = ['%s: read in bulk from Gnocchi (aggregates API, %s '
             'for %d %s%s)' % (metric, _requests(requests), len(resources),
                               what,
                               ', resampled by Gnocchi to %d s (%s)'
                               % resample if resample else '')]
    if left_out:
        notes.append(_refused_note(metric, left_out, what))
    missing = len(resources) - len(per)
    if missing:
        notes.append('%s: no data for %d of %d %s'
                     % (metric, missing, len(resources), what))
    LOG.debug('%s: %d series of %d %s in %d requests', metric, len(per),
              len(resources), what, requests)
    return per, notes
