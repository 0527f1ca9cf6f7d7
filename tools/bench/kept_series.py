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
"""Kept series against whole reads, on the same Gnocchi.

Against a running ``heatwatcher sandbox``, for each of the audit's history
reads (the forecast's instance CPU slot means over ``forecast_window``, the
hosts' power and CPU over ``fit_window``, as ``gnocchi_reads.py`` reads
them): a :class:`~heatwatcher.telemetry.history_cache.SeriesCache` is
primed with the window that ended ``--gap`` hours ago, then read again with
the window ending now (it asks Gnocchi only for what came after the primed
read, less the overlap), and the same window is read whole. Both answers are
compared exactly (every time and value, bit for bit, the same resources),
and the two reads are timed.

Usage: ``python tools/bench/kept_series.py --sandbox DIR [--gap HOURS]
[--overlap S] [--out DIR]``; adds a run to ``<out>/kept_series.{json,md}``.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import sys
import time

import numpy as np

import gnocchi_reads  # tools/bench, the script's directory
import results

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

NAME = 'kept_series'
UTC = datetime.timezone.utc


def differing(whole, kept):
    """Keys whose series differ between the two reads (or are in one)."""
    keys = set(whole) | set(kept)
    return sorted(
        key for key in keys if key not in whole or key not in kept
        or not np.array_equal(whole[key].times, kept[key].times)
        or not np.array_equal(whole[key].values, kept[key].values,
                              equal_nan=True))


def run(directory, gap_hours, overlap):
    from heatwatcher.snapshot import capture
    from heatwatcher.snapshot import run as snapshot_run
    from heatwatcher.telemetry import collect
    from heatwatcher.telemetry import history_cache
    from heatwatcher import timestamps
    layout, conf = gnocchi_reads.open_sandbox(directory)
    snapshot_run.configure(conf)
    gnocchi_reads._quiet()
    datasource = capture.datasource_backend(
        ['instance_cpu_usage', 'host_power', 'host_cpu_usage'])
    hosts, instances = gnocchi_reads.inventory(layout)
    settings = gnocchi_reads.defaults()
    step, slot = settings['granularity'], settings['slot_minutes'] * 60
    end = gnocchi_reads.series_end(datetime.datetime.now(UTC), step)
    primed_end = end - datetime.timedelta(hours=gap_hours)
    cache = history_cache.SeriesCache(overlap)
    through_cache = functools.partial(cache.read, collect.read_metric)
    rows = []
    for label, resources, kind, metric, _start, what in gnocchi_reads.reads(
            hosts, instances, settings, end):
        resample = (slot, 'min') if kind == 'instance' else None

        def start(until):
            if kind == 'instance':
                return timestamps.window_start(
                    until, settings['forecast_window'], slot)
            return until - datetime.timedelta(
                seconds=settings['fit_window'])

        def timed_read(read, until):
            began = time.monotonic()
            answer = read(datasource, resources, kind, metric, start(until),
                          until, step, what, resample=resample)
            return answer, round(time.monotonic() - began, 2)

        _, primed_seconds = timed_read(through_cache, primed_end)
        (kept, notes), kept_seconds = timed_read(through_cache, end)
        (whole, _), whole_seconds = timed_read(collect.read_metric, end)
        rows.append({
            'read': label, 'resources': len(resources),
            'with_data': len(whole),
            'points': int(sum(len(series) for series in whole.values())),
            'resample': list(resample) if resample else None,
            'whole_seconds': whole_seconds, 'kept_seconds': kept_seconds,
            'primed_seconds': primed_seconds,
            'differing': len(differing(whole, kept)),
            'notes': [note for note in notes if 'kept' in note]})
    return {'measured_at': datetime.datetime.now(UTC).replace(
                microsecond=0).isoformat(),
            'machine': platform.machine(), 'cpus': os.cpu_count(),
            'sandbox': os.path.abspath(directory), 'hosts': len(hosts),
            'instances': len(instances), 'series_end': end.isoformat(),
            'gap_hours': gap_hours, 'overlap': overlap, 'rows': rows}


def markdown(runs):
    lines = [
        '# Kept series against whole reads', '',
        'Generated by `tools/bench/kept_series.py` against a running '
        '`heatwatcher sandbox` (real Gnocchi). For each history read of '
        'the audit, a `SeriesCache` (`[heatwatcher] telemetry_cache`) is '
        'primed with the window that ended `gap` hours earlier; then the '
        'window ending now is read through it ("kept + new": Gnocchi is '
        'asked only for what came after the primed read, less the '
        'overlap) and read whole, one after the other. "differing": '
        'resources whose series differ in any time or value (exact '
        'comparison, no tolerance) or that only one read has.']
    for run in runs:
        lines += [
            '', '## %s: %d hosts, %d instances' % (
                run['measured_at'], run['hosts'], run['instances']), '',
            'Series end %s, primed %g h before, overlap %d s; %s, %d '
            'CPUs.' % (run['series_end'], run['gap_hours'], run['overlap'],
                       run['machine'], run['cpus']), '',
            '| read | resources | with data | points | whole read s | '
            'kept + new s | priming s | differing |',
            '|---|---:|---:|---:|---:|---:|---:|---:|']
        for row in run['rows']:
            lines.append('| %s%s | %d | %d | %d | %.1f | %.1f | %.1f | %d |'
                         % (row['read'], ' (slot means, %d s)'
                            % row['resample'][0] if row['resample'] else '',
                            row['resources'], row['with_data'],
                            row['points'], row['whole_seconds'],
                            row['kept_seconds'], row['primed_seconds'],
                            row['differing']))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sandbox', required=True, metavar='DIR')
    parser.add_argument('--gap', type=float, default=2.0, metavar='HOURS',
                        help='hours between the primed read and now')
    parser.add_argument('--overlap', type=int, default=3600, metavar='S',
                        help='telemetry_cache_overlap (default 3600)')
    results.add_out_argument(parser)
    args = parser.parse_args(argv)
    previous = os.path.join(args.out, NAME + '.json')
    runs = []
    if os.path.exists(previous):
        with open(previous) as f:
            runs = json.load(f)['runs']
    result = run(args.sandbox, args.gap, args.overlap)
    print(json.dumps(result, indent=1))
    runs.append(result)
    results.write(args.out, NAME, {'runs': runs}, markdown(runs))
    return 1 if any(row['differing'] for row in result['rows']) else 0


if __name__ == '__main__':
    sys.exit(main())
