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
"""Gnocchi reads of an audit: bulk (aggregates API) vs per resource.

Against a running ``heatwatcher sandbox`` (a real Keystone and Gnocchi),
reads what a default ``heat_consolidation`` audit reads from Gnocchi, twice
in the same run, through the same Watcher datasource (configured from the
sandbox's ``watcher/watcher.conf`` as ``heatwatcher snapshot`` configures
it: :func:`heatwatcher.snapshot.run.configure` and
:func:`heatwatcher.snapshot.capture.datasource_backend`):

- ``bulk``: heatwatcher's path, :mod:`heatwatcher.telemetry.gnocchi_bulk`
  (resource search + ``POST /v1/aggregates?groupby=id``);
- ``per resource``: Watcher's own calls, as
  :mod:`heatwatcher.telemetry.collect` makes them when the bulk path does
  not apply (``get_instance_cpu_usage`` and ``statistic_series``, one
  request per instance, two per host).

The reads (the audit's, default settings of
:mod:`heatwatcher.strategies.heat_consolidation_settings`):

1. ``instance_cpu_usage`` mean over ``period`` (``collect.collect``);
2. ``instance_cpu_usage`` series over ``forecast_window`` (14 days;
   ``collect.instance_series``, mode auto/proactive);
3. ``host_power`` and ``host_cpu_usage`` series over ``fit_window`` (7 days;
   ``collect.host_series``, heat_source model): in bulk the two metrics at
   the same time (``collect.read_metrics``, as the audit reads them), per
   resource one after the other; one row for both.

Before the reads, every gnocchi-api process validates the run's token
(:func:`warm_token_caches`, untimed), as it has for a decision engine that
keeps its token between audits.

The series windows end at the last step boundary before the run minus one
step, the same for both paths, so that the sandbox's telemetry feeder and
gnocchi-metricd, which add a point per step, cannot change the data between
the two reads. The means end at "now" (each path takes its own clock, as in
an audit): a step boundary crossed between the two reads, or a point that
gnocchi-metricd processed meanwhile, can change the latest rate. The result
says whether a boundary was crossed, and the means are read in bulk once
more, untimed, on the other side of the per-resource read: a per-resource
mean equal to either bulk read is the same data read at another moment.

Values are compared exactly: both paths read the same Gnocchi aggregates
(JSON floats parsed by the same ``json`` module), so they must be equal bit
for bit; any difference is counted and its largest size reported.

Wall seconds include parsing into :class:`~heatwatcher.timestamps.Samples`
(both paths end there). HTTP requests and response bytes are counted on
keystoneauth's ``Session.request`` (token requests included). CPU
seconds are the benchmark process's (``client``) and those of the sandbox's
gnocchi-api processes (from ``/proc``, its pid file and children): they
show where the time goes.

Usage: ``python tools/bench/gnocchi_reads.py --sandbox DIR
[--output-dir doc/source/benchmarks] [--repeat N] [--note TEXT]``.
"""

import argparse
import contextlib
import datetime
import json
import logging
import os
import platform
import sys
import time
import types
import warnings

import numpy as np

import results  # tools/bench, the script's directory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
NAME = 'gnocchi_reads'
UTC = datetime.timezone.utc


class NotRunning(Exception):
    """The sandbox is not there or its Keystone/Gnocchi do not answer."""


def defaults():
    """The audit's default settings that decide what it reads."""
    from heatwatcher.strategies import heat_consolidation_settings as hcs
    opts = {opt.dest: opt.default for opt in hcs.OPTIONS}
    return {name: opts[name] for name in (
        'period', 'granularity', 'fit_window', 'forecast_window',
        'slot_minutes')}


def series_end(now, granularity):
    """End of the series windows: one step before ``now``'s step start."""
    seconds = int(now.timestamp()) // granularity * granularity - granularity
    return datetime.datetime.fromtimestamp(seconds, UTC)


def boundaries_between(began, ended, granularity):
    """Step boundaries (epoch s, multiples of ``granularity``) crossed."""
    return int(ended // granularity) - int(began // granularity)


def compare_samples(bulk, per):
    """Compare two ``{key: Samples}``; exact, NaN equal to NaN.

    :returns: dict of counts: ``series`` (in both), ``only_bulk``,
        ``only_per_resource``, ``points``, ``time_mismatches`` (series
        whose timestamps differ), ``value_mismatches`` (points), and
        ``max_abs_difference``.
    """
    common = sorted(set(bulk) & set(per))
    out = {'series': len(common), 'only_bulk': len(set(bulk) - set(per)),
           'only_per_resource': len(set(per) - set(bulk)), 'points': 0,
           'time_mismatches': 0, 'value_mismatches': 0,
           'max_abs_difference': 0.0}
    for key in common:
        a, b = bulk[key], per[key]
        if len(a.times) != len(b.times) or not np.array_equal(a.times,
                                                              b.times):
            out['time_mismatches'] += 1
            continue
        out['points'] += len(a.times)
        same = (a.values == b.values) | (np.isnan(a.values)
                                         & np.isnan(b.values))
        if not same.all():
            out['value_mismatches'] += int((~same).sum())
            out['max_abs_difference'] = max(out['max_abs_difference'], float(
                np.nanmax(np.abs(a.values - b.values))))
    return out


def compare_values(bulk, per, bulk_again=None):
    """Compare two ``{key: float or None}`` exactly (the means).

    :param bulk_again: None, or the bulk read made again after the
        per-resource one: a per-resource value equal to either bulk read is
        the same data read at another moment (gnocchi-metricd added a point
        between the reads); ``changed_during_reads`` counts the values the
        two bulk reads differ in.
    """
    keys = set(bulk) | set(per)
    both = [key for key in keys
            if bulk.get(key) is not None and per.get(key) is not None]
    again = bulk_again or {}
    differ = [key for key in both if bulk[key] != per[key]
              and again.get(key) != per[key]]
    out = {'values': len(both),
           'only_bulk': sum(1 for key in keys if bulk.get(key) is not None
                            and per.get(key) is None),
           'only_per_resource': sum(1 for key in keys
                                    if per.get(key) is not None
                                    and bulk.get(key) is None),
           'value_mismatches': len(differ),
           'max_abs_difference': max((abs(bulk[key] - per[key])
                                      for key in differ), default=0.0)}
    if bulk_again is not None:
        out['changed_during_reads'] = sum(
            1 for key in bulk if bulk[key] != bulk_again.get(key))
    return out


# Slot means of the two paths agree to rounding (percent of the vCPUs).
SLOT_MEAN_TOLERANCE = 1e-9


def compare_slot_means(bulk, per):
    """Compare two ``(N, D, K)`` history matrices, to rounding.

    :returns: dict: ``values`` (finite in both), ``only_bulk``,
        ``only_per_resource`` (finite in one only), ``value_mismatches``
        (differing by more than :data:`SLOT_MEAN_TOLERANCE`) and
        ``max_abs_difference``.
    """
    finite_bulk, finite_per = np.isfinite(bulk), np.isfinite(per)
    both = finite_bulk & finite_per
    difference = np.abs(bulk[both] - per[both])
    return {'values': int(both.sum()),
            'only_bulk': int((finite_bulk & ~finite_per).sum()),
            'only_per_resource': int((finite_per & ~finite_bulk).sum()),
            'value_mismatches': int((difference
                                     > SLOT_MEAN_TOLERANCE).sum()),
            'max_abs_difference': float(difference.max(initial=0.0))}


def slot_means(series, instances, settings, end):
    """The forecast's history matrix ``(N, D, K)`` of CPU counters."""
    from heatwatcher.forecast import history
    from heatwatcher.telemetry import collect
    uuids = sorted(instances)
    percent = {uuid: collect.cpu_percent_series(samples,
                                                instances[uuid].vcpus)
               for uuid, samples in series.items()}
    return history.matrix(percent, uuids, end,
                          window=settings['forecast_window'],
                          step=settings['granularity'],
                          slot_minutes=settings['slot_minutes'],
                          horizon=1).y


def identical(comparison):
    """True when a comparison found nothing different or missing."""
    return not any(comparison.get(field) for field in (
        'only_bulk', 'only_per_resource', 'time_mismatches',
        'value_mismatches'))


class RequestCounter:
    """Count keystoneauth requests (and response bytes) while active."""

    def __init__(self):
        self.requests = 0
        self.bytes = 0

    @contextlib.contextmanager
    def counting(self):
        from keystoneauth1 import session
        original = session.Session.request
        counter = self

        def request(self, *args, **kwargs):
            response = original(self, *args, **kwargs)
            counter.requests += 1
            counter.bytes += len(response.content or b'')
            return response

        session.Session.request = request
        try:
            yield self
        finally:
            session.Session.request = original


def process_tree(pid):
    """``pid`` and its descendants (from /proc), or [] if it is gone."""
    from heatwatcher.sandbox import process
    if not pid or not os.path.exists('/proc/%d' % pid):
        return []
    return [pid] + list(process.descendants(pid))


def cpu_seconds(pids):
    """User + system CPU seconds of ``pids`` so far (gone ones count 0)."""
    ticks = 0
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / float(os.sysconf('SC_CLK_TCK'))


def timed(function, server_pids=()):
    """Run ``function()``.

    :returns: ``(result, wall s, requests, bytes, client CPU s, server
        CPU s)``; server CPU is that of ``server_pids`` (gnocchi-api).
    """
    counter = RequestCounter()
    with counter.counting():
        server = cpu_seconds(server_pids)
        client = time.process_time()
        began = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - began
        client = time.process_time() - client
        server = cpu_seconds(server_pids) - server
    return result, seconds, counter.requests, counter.bytes, client, server


def _quiet():
    warnings.filterwarnings('ignore')
    logging.disable(logging.WARNING)


def open_sandbox(directory):
    """Layout of the running sandbox in ``directory``.

    :raises NotRunning: with what is missing.
    """
    from heatwatcher.sandbox import errors
    from heatwatcher.sandbox import layout as sandbox_layout
    from heatwatcher.sandbox import process
    try:
        layout, services = sandbox_layout.Layout.load(directory)
    except errors.NotRunning:
        raise NotRunning('no sandbox in %s (no sandbox.json): start one with '
                         '"heatwatcher sandbox up --dir %s"'
                         % (directory, directory))
    for service in ('keystone', 'gnocchi'):
        if not process.port_open(layout.port(service)):
            raise NotRunning('the sandbox in %s is not running: %s does not '
                             'answer on 127.0.0.1:%d ("heatwatcher sandbox '
                             'status --dir %s")' % (
                                 directory, service, layout.port(service),
                                 directory))
    conf = layout.path('watcher', 'watcher.conf')
    if not os.path.exists(conf):
        raise NotRunning('%s is missing' % conf)
    return layout, conf


def inventory(layout):
    """Hosts and instances of the sandbox's Nova, as ``heatwatcher snapshot``.

    :returns: ``({hostname: host resource}, {uuid: instance resource})``
        with the attributes Watcher's datasource reads.
    """
    from heatwatcher.snapshot import capture
    os.environ.update(layout.credentials())
    conn = capture.connect()
    hosts = capture._hosts(conn)
    instances = capture._instances(conn, {host['name'] for host in hosts})
    return ({host['name']: types.SimpleNamespace(uuid=host['uuid'],
                                                 hostname=host['name'])
             for host in hosts},
            {inst['uuid']: types.SimpleNamespace(uuid=inst['uuid'],
                                                 vcpus=inst['vcpus'])
             for inst in instances})


def _bulk_means(datasource, instances, settings, concurrency):
    from heatwatcher.telemetry import collect
    from heatwatcher.telemetry import gnocchi_bulk
    means, _notes = gnocchi_bulk.instance_cpu_means(
        datasource, instances, settings['period'], settings['granularity'],
        concurrency=concurrency)
    notes = []
    return {uuid: collect._checked_cpu_percent(instance, means.get(uuid),
                                               notes)
            for uuid, instance in instances.items()}


def _per_resource_means(datasource, instances, settings, _concurrency):
    from heatwatcher.telemetry import collect
    # Watcher caches statistic_aggregation per execution: start empty
    datasource.metric_cache = type(datasource.metric_cache)()
    notes = []
    return {uuid: collect._cpu_percent(datasource, instance,
                                       settings['period'],
                                       settings['granularity'], notes)
            for uuid, instance in instances.items()}


# Requests sent at once to warm gnocchi-api's token caches: more than its
# uWSGI processes times threads (3 x 2 on 2 CPUs), so that each process
# answers one.
WARM_REQUESTS = 12


def warm_token_caches(datasource, rounds=3):
    """Have every gnocchi-api process validate this run's token, untimed.

    keystonemiddleware validates a token with Keystone once per gnocchi-api
    process and keeps the answer (``token_cache_time``, 300 s): the first
    requests of a new token wait for Keystone (0.3 to 0.6 s each when they
    come together). A decision engine keeps its token across audits; without
    this, the first read timed (the bulk means, in rounds that read in bulk
    first) would pay for every process's validation and the reads after it
    for none.
    """
    from concurrent import futures
    with futures.ThreadPoolExecutor(WARM_REQUESTS) as pool:
        for _ in range(rounds):
            list(pool.map(lambda _index: datasource.gnocchi.status.get(),
                          range(WARM_REQUESTS)))


@contextlib.contextmanager
def bulk_concurrency(concurrency):
    """Bulk reads made through :mod:`collect` use ``concurrency``."""
    import functools
    from heatwatcher.telemetry import gnocchi_bulk
    original = gnocchi_bulk.read
    if concurrency is not None:
        gnocchi_bulk.read = functools.partial(original,
                                              concurrency=concurrency)
    try:
        yield
    finally:
        gnocchi_bulk.read = original


def merged(comparisons):
    """One comparison of several (counts summed, largest difference)."""
    out = {}
    for comparison in comparisons:
        for field, value in comparison.items():
            out[field] = (max(out.get(field, 0.0), value)
                          if field == 'max_abs_difference'
                          else out.get(field, 0) + value)
    return out


def reads(hosts, instances, settings, end):
    """The audit's series reads.

    :returns: ``[(label, resources, kind, metrics, start, what)]``; the
        metrics of one read are read as
        :func:`heatwatcher.telemetry.collect.read_metrics` reads them.
    """
    def start(window):
        return end - datetime.timedelta(seconds=window)
    from heatwatcher import timestamps
    return [
        # the forecast reads from the start of the window's first slot
        ('instance_cpu_usage', instances, 'instance',
         ('instance_cpu_usage',),
         timestamps.window_start(end, settings['forecast_window'],
                                 settings['slot_minutes'] * 60),
         'instances'),
        # collect.host_series reads the host metrics at the same time
        ('host_power + host_cpu_usage', hosts, 'compute_node',
         ('host_power', 'host_cpu_usage'), start(settings['fit_window']),
         'hosts'),
    ]


def one_round(datasource, hosts, instances, settings, end, order,
              server_pids=(), concurrency=None):
    """Every read by both paths in ``order``; ``[row]``."""
    from heatwatcher.telemetry import collect
    from heatwatcher.telemetry import gnocchi_bulk
    granularity = settings['granularity']
    rows = []
    # 1. instance CPU means (collect.collect), and the bulk read again,
    # untimed, on the other side of the per-resource one
    got = {}
    if order[0] == 'per_resource':
        again = _bulk_means(datasource, instances, settings, concurrency)
    for path in order:
        function = {'bulk': _bulk_means,
                    'per_resource': _per_resource_means}[path]
        began = time.time()
        got[path] = timed(lambda: function(datasource, instances, settings,
                                           concurrency), server_pids)
        got[path] += (began, time.time())
    if order[0] == 'bulk':
        again = _bulk_means(datasource, instances, settings, concurrency)
    first, last = min(g[6] for g in got.values()), max(
        g[7] for g in got.values())
    rows.append(_row('instance_cpu_usage (mean, %d s)' % settings['period'],
                     len(instances), got, compare_values(
                         got['bulk'][0], got['per_resource'][0], again),
                     boundaries=boundaries_between(first, last,
                                                   granularity)))
    # 2, 3. series (collect.instance_series, collect.host_series)
    for label, resources, kind, metrics, start, what in reads(
            hosts, instances, settings, end):
        got = {}
        for path in order:
            if path == 'bulk':
                with bulk_concurrency(concurrency):
                    got[path] = timed(lambda: collect.read_metrics(
                        datasource, resources, kind, list(metrics), start,
                        end, granularity, what)[0], server_pids)
            else:
                got[path] = timed(lambda: {metric: collect._read_series(
                    datasource, resources, kind, metric, start, end,
                    granularity, what)[0] for metric in metrics},
                    server_pids)
        instance_read = metrics == ('instance_cpu_usage',)
        # the audit reads the instances' slot means (row 4); the whole
        # series is what heatwatcher snapshot captures
        rows.append(_row('%s (series, %.0f d%s)' % (
            label, (end - start).total_seconds() / 86400,
            '; snapshot capture' if instance_read else ''),
            len(resources), got, merged(
                compare_samples(got['bulk'][0][metric],
                                got['per_resource'][0][metric])
                for metric in metrics), in_audit=not instance_read))
        if instance_read:
            series_got, series_start = got, start
    # 4. what the forecast reads (collect.instance_series with a slot):
    # Gnocchi resamples the counter to one value a slot; per resource, the
    # series read above (its figures) made into slot means
    slot = settings['slot_minutes'] * 60
    bulk = timed(lambda: slot_means(gnocchi_bulk.read(
        datasource, instances, 'instance', 'instance_cpu_usage',
        series_start, end, granularity, 'instances',
        concurrency=concurrency, resample=(slot, 'min'))[0], instances,
        settings, end), server_pids)
    matrix = timed(lambda: slot_means(
        series_got['per_resource'][0]['instance_cpu_usage'], instances,
        settings, end))
    read = series_got['per_resource']
    per_resource = (matrix[0], read[1] + matrix[1]) + read[2:4] + (
        read[4] + matrix[4], read[5])
    rows.append(_row('instance_cpu_usage (slot means, %.0f d, bulk '
                     'resampled to %d s)' % (
                         (end - series_start).total_seconds() / 86400,
                         slot), len(instances),
                     {'bulk': bulk, 'per_resource': per_resource},
                     compare_slot_means(bulk[0], per_resource[0])))
    return rows


def _row(read, resources, got, comparison, boundaries=None, in_audit=True):
    row = {'read': read, 'resources': resources, 'comparison': comparison,
           'identical': identical(comparison), 'in_audit': in_audit}
    for path in ('bulk', 'per_resource'):
        _result, seconds, requests, size, client, server = got[path][:6]
        row[path] = {'seconds': round(seconds, 3), 'requests': requests,
                     'mib': round(size / 2.0 ** 20, 1),
                     'client_cpu_seconds': round(client, 2),
                     'gnocchi_api_cpu_seconds': round(server, 2)}
    row['speedup'] = round(row['per_resource']['seconds']
                           / max(row['bulk']['seconds'], 1e-9), 1)
    if boundaries is not None:
        row['step_boundaries_crossed'] = boundaries
    return row


def totals(rows):
    """Sum of the audit's reads: seconds and requests per path."""
    rows = [row for row in rows if row.get('in_audit', True)]
    out = {}
    for path in ('bulk', 'per_resource'):
        out[path] = {
            'seconds': round(sum(row[path]['seconds'] for row in rows), 3),
            'requests': sum(row[path]['requests'] for row in rows),
            'mib': round(sum(row[path]['mib'] for row in rows), 1)}
        for field in ('client_cpu_seconds', 'gnocchi_api_cpu_seconds'):
            out[path][field] = round(sum(row[path][field] for row in rows),
                                     2)
    out['speedup'] = round(out['per_resource']['seconds']
                           / max(out['bulk']['seconds'], 1e-9), 1)
    out['identical'] = all(row['identical'] for row in rows)
    return out


def run(directory, repeat=1, concurrency=None):
    """Measure against the sandbox in ``directory``; the result dict."""
    layout, conf = open_sandbox(directory)
    from heatwatcher.snapshot import capture
    from heatwatcher.snapshot import run as snapshot_run
    snapshot_run.configure(conf)
    _quiet()
    datasource = capture.datasource_backend(
        ['instance_cpu_usage', 'host_power', 'host_cpu_usage'])
    if datasource is None or getattr(datasource, 'NAME', '') != 'gnocchi':
        raise NotRunning('%s does not configure a Gnocchi datasource' % conf)
    try:
        datasource.gnocchi.status.get()  # token and connection, untimed
    except Exception as exc:
        raise NotRunning('Gnocchi of the sandbox in %s does not answer: %s'
                         % (directory, exc))
    warm_token_caches(datasource)
    hosts, instances = inventory(layout)
    from heatwatcher.sandbox import process
    server_pids = process_tree(process.read_pid(
        layout.pid_file('gnocchi-api')))
    settings = defaults()
    end = series_end(datetime.datetime.now(UTC), settings['granularity'])
    rounds = []
    for index in range(repeat):
        order = (('bulk', 'per_resource') if index % 2 == 0
                 else ('per_resource', 'bulk'))
        rows = one_round(datasource, hosts, instances, settings, end, order,
                         server_pids, concurrency)
        rounds.append({'order': list(order), 'rows': rows,
                       'total': totals(rows)})
    import numpy
    return {
        'machine': platform.machine(), 'python': platform.python_version(),
        'numpy': numpy.__version__, 'cpus': os.cpu_count(),
        'sandbox': os.path.abspath(directory),
        'gnocchi': layout.url('gnocchi'), 'hosts': len(hosts),
        'instances': len(instances), 'settings': settings,
        'concurrency': concurrency,
        'series_end': end.isoformat(),
        'measured_at': datetime.datetime.now(UTC).replace(
            microsecond=0).isoformat(),
        'rounds': rounds}


def markdown(runs):
    """Markdown of one or more runs (one per sandbox size)."""
    lines = [
        '# Gnocchi reads: bulk vs per resource', '',
        'Generated by `tools/bench/gnocchi_reads.py` against a running '
        '`heatwatcher sandbox` (real Keystone and Gnocchi, series of a '
        'snapshot written by `sandbox up`). Each row reads the same '
        'resources, metric and window twice in the same run, through the '
        'same Watcher Gnocchi datasource configured from the sandbox\'s '
        '`watcher.conf`: "bulk" is heatwatcher\'s path '
        '(`telemetry/gnocchi_bulk.py`: resource search, then '
        '`POST /v1/aggregates?groupby=id`), "per resource" Watcher\'s own '
        'calls (`get_instance_cpu_usage`, `statistic_series`: one request '
        'per instance, two per host). The reads are the default '
        '`heat_consolidation` audit\'s: instance CPU means over `period`, '
        'instance CPU series over `forecast_window`, host power and CPU '
        'series over `fit_window`. Since the forecast reads slot means, '
        'the bulk path has Gnocchi resample the instances\' CPU counter to '
        'one value a slot (row "slot means"; per resource, Watcher reads '
        'the whole series, whose figures that row repeats, and it is made '
        'into the same slot means); the whole instance series (row '
        '"snapshot capture") is what `heatwatcher snapshot` reads, and is '
        'left out of the audit total. Runs before the resampling have no '
        'slot-means row and their total includes the whole series. '
        'Seconds are wall clock including '
        'parsing into arrays; requests and MiB (response bodies) are '
        'counted on keystoneauth\'s session; "API CPU s" is the CPU time '
        'of the sandbox\'s gnocchi-api processes during the read, '
        '"client CPU s" the benchmark process\'s. "identical": every '
        'value equal bit for bit and the same resources with data (the '
        'comparison is exact; no tolerance), except for slot means: '
        'equal within 1e-9 % (rounding); the means end at the time of '
        'each read, and are read in bulk a second time, untimed, on the '
        'other side of the per-resource read: a per-resource mean equal '
        'to either bulk read is the same data (gnocchi-metricd adds a '
        'point between the reads). The sandbox runs on the '
        'same machine as the benchmark: Gnocchi\'s API, metricd and '
        'PostgreSQL, the feeder and the other services share its CPUs '
        '(and here other work), so timings vary by tens of percent '
        'between runs.', '']
    for result in runs:
        lines += [
            '## %d hosts, %d instances, bulk with %s' % (
                result['hosts'], result['instances'],
                _concurrency_text(result.get('concurrency'))), '',
            'Measured %s on %s, Python %s, %d CPUs; sandbox `%s`; series '
            'windows end %s.%s' % (
                result['measured_at'], result['machine'], result['python'],
                result['cpus'], result['sandbox'], result['series_end'],
                (' ' + result['note']) if result.get('note') else ''), '',
            '| round | read | resources | bulk s | req. | MiB | API CPU s | '
            'client CPU s | per-resource s | req. | MiB | API CPU s | '
            'client CPU s | speed-up | identical |',
            '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
            '---:|---:|---|']
        for number, one in enumerate(result['rounds'], 1):
            for row in one['rows'] + [dict(one['total'],
                                           read='**audit total**',
                                           resources=None)]:
                lines.append(
                    '| %d%s | %s | %s | %s | %s | %.1fx | %s |' % (
                        number, ' (per resource first)'
                        if one['order'][0] == 'per_resource' else '',
                        row['read'], '' if row['resources'] is None
                        else row['resources'], _path_cells(row['bulk']),
                        _path_cells(row['per_resource']), row['speedup'],
                        _identical_text(row)))
        lines.append('')
    return '\n'.join(lines)


def _concurrency_text(concurrency):
    """How many aggregates requests the bulk path had in flight."""
    if concurrency is None:
        return 'one request at a time'   # runs before concurrency existed
    if concurrency == 1:
        return 'one request at a time'
    return 'up to %d requests at a time' % concurrency


def _path_cells(figures):
    return '%.2f | %d | %.1f | %s | %s' % (
        figures['seconds'], figures['requests'], figures['mib'],
        _maybe(figures.get('gnocchi_api_cpu_seconds')),
        _maybe(figures.get('client_cpu_seconds')))


def _maybe(value):
    return '' if value is None else '%.2f' % value


def _identical_text(row):
    comparison = row.get('comparison')
    if row['identical']:
        changed = (comparison or {}).get('changed_during_reads')
        if changed:
            return ('yes (%d changed in Gnocchi between the reads; each '
                    'equal to the bulk read before or after)' % changed)
        return 'yes'

    if comparison is None:
        return 'no'
    text = 'no: %s' % ', '.join('%s %s' % (field, comparison[field])
                                for field in ('only_bulk',
                                              'only_per_resource',
                                              'time_mismatches',
                                              'value_mismatches',
                                              'max_abs_difference')
                                if comparison.get(field))
    if row.get('step_boundaries_crossed'):
        text += ' (a step boundary passed between the reads)'
    return text


def _run_key(result):
    """Runs are kept one per size and bulk concurrency."""
    return result['instances'], result.get('concurrency') or 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sandbox', required=True, metavar='DIR',
                        help='directory of a running heatwatcher sandbox')
    parser.add_argument('--output-dir', '--out', dest='out',
                        default=results.DEFAULT_OUT,
                        help='directory of the JSON and Markdown results '
                             '(default %(default)s)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='rounds; even rounds read per resource first')
    parser.add_argument('--append', action='store_true',
                        help='keep the runs already in the JSON (other '
                             'sizes) and add this one')
    parser.add_argument('--note', help='a sentence added to this run')
    parser.add_argument('--concurrency', type=int, default=None,
                        help='aggregates requests in flight at once on the '
                             'bulk path (default: gnocchi_bulk\'s '
                             'MAX_CONCURRENT_REQUESTS)')
    args = parser.parse_args(argv)
    from heatwatcher.telemetry import gnocchi_bulk
    concurrency = max(1, args.concurrency
                      or gnocchi_bulk.MAX_CONCURRENT_REQUESTS)
    try:
        result = run(args.sandbox, max(1, args.repeat), concurrency)
    except NotRunning as exc:
        sys.stderr.write('gnocchi_reads: %s\n' % exc)
        return 2
    if args.note:
        result['note'] = args.note
    runs = []
    path = os.path.join(args.out, NAME + '.json')
    if args.append and os.path.exists(path):
        with open(path) as f:
            runs = [old for old in json.load(f)['runs']
                    if _run_key(old) != _run_key(result)]
    runs.append(result)
    runs.sort(key=_run_key)
    results.write(args.out, NAME, {'runs': runs}, markdown(runs))
    for one in result['rounds']:
        total = one['total']
        print('%d hosts, %d instances: bulk %.2f s (%d requests), per '
              'resource %.2f s (%d requests), %.1fx, identical: %s' % (
                  result['hosts'], result['instances'],
                  total['bulk']['seconds'], total['bulk']['requests'],
                  total['per_resource']['seconds'],
                  total['per_resource']['requests'], total['speedup'],
                  total['identical']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
