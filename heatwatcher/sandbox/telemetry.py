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
"""Write a snapshot's metric series into Gnocchi as Ceilometer would.

Resources: one ``instance`` per instance (id = the instance uuid) and one
``host`` per compute node whose original resource id is
``<hostname>_<hostname>``, which is what Watcher's Gnocchi datasource
searches for. Metric names come from that datasource's ``METRIC_MAP``.
The instance CPU series (percent of the instance's vCPUs per step) is
written as Ceilometer's ``cpu`` metric: the cumulative CPU time in
nanoseconds.

The series are shifted in time so that the snapshot's ``captured_at``
becomes the present (rounded down to the step): the decision engine reads
"the last N seconds".
"""

import datetime
import time

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import gnocchi
from heatwatcher.snapshot import load as snapshot_load

UTC = datetime.timezone.utc
BATCH_RESOURCES = 10
INSTANCE_COUNTERS = ('instance_cpu_usage',)


def metric_map():
    """Watcher's metric name -> Gnocchi metric name."""
    from watcher.decision_engine.datasources import gnocchi as gnocchi_ds
    return dict(gnocchi_ds.GnocchiHelper.METRIC_MAP)


def time_shift(doc, now=None):
    """How much to add to the snapshot's timestamps to end at ``now``."""
    now = now or datetime.datetime.now(UTC)
    step = 300
    floored = now.replace(microsecond=0) - datetime.timedelta(
        seconds=int(now.timestamp()) % step)
    return floored - snapshot_load._parse_time(doc['captured_at'])


def _points(series, shift):
    start = snapshot_load._parse_time(series['start']) + shift
    step = datetime.timedelta(seconds=series['step'])
    return [((start + step * index).isoformat(), value)
            for index, value in enumerate(series['values'])
            if value is not None]


def cpu_counter(series, vcpus, shift):
    """Percent-per-step series -> cumulative CPU time (ns) measures.

    Value ``k`` covers ``[start + k*step, start + (k+1)*step)``: the
    counter gains ``value/100 * vcpus * step`` seconds over that step, so
    a rate read back at ``start + k*step`` gives ``value`` again.
    """
    start = snapshot_load._parse_time(series['start']) + shift
    step = series['step']
    counter = 0.0
    out = [{'timestamp': start.isoformat(), 'value': counter}]
    for index, value in enumerate(series['values']):
        if value is None:
            continue
        counter += value / 100.0 * max(vcpus, 1) * step * 1e9
        stamp = start + datetime.timedelta(seconds=step * (index + 1))
        out.append({'timestamp': stamp.isoformat(), 'value': counter})
    return out


def resources(doc, shift):
    """Yield ``(resource type, body, {gnocchi metric: measures})``.

    One resource at a time: the measures of a large snapshot (10,000
    instances with 14 days every 5 minutes are 40 million points, about
    15 GB as measure dicts) are never all in memory at once.
    """
    names = metric_map()
    metrics = doc.get('metrics', {})
    for inst in doc['instances']:
        measures = {}
        for metric, per in metrics.items():
            series = per.get(inst['uuid'])
            if series is None or not metric.startswith('instance_'):
                continue
            if metric in INSTANCE_COUNTERS:
                measures[names[metric]] = cpu_counter(series, inst['vcpus'],
                                                      shift)
            else:
                measures[names[metric]] = [
                    {'timestamp': stamp, 'value': value}
                    for stamp, value in _points(series, shift)]
        body = {'id': inst['uuid'], 'display_name': inst['name'],
                'host': inst['host'], 'project_id': inst.get('project_id')
                or None, 'metrics': {
                    name: {'archive_policy_name':
                           gnocchi.ARCHIVE_POLICY['name']}
                    for name in measures}}
        yield 'instance', body, measures
    for host in doc['hosts']:
        measures = {}
        for metric, per in metrics.items():
            series = per.get(host['name'])
            if series is None or not metric.startswith('host_'):
                continue
            if metric not in names:
                continue
            measures[names[metric]] = [
                {'timestamp': stamp, 'value': value}
                for stamp, value in _points(series, shift)]
        body = {'id': '%s_%s' % (host['name'], host['name']),
                'host_name': host['name'], 'metrics': {
                    name: {'archive_policy_name':
                           gnocchi.ARCHIVE_POLICY['name']}
                    for name in measures}}
        yield 'host', body, measures


def _fail(layout, step, response):
    raise errors.StepFailed(step=step, reason='HTTP %d %s' % (
        response.status_code, response.text[:300]),
        log=layout.log('gnocchi-api'))


def write(layout, sess, doc, progress=None, now=None):
    """Create the resources and post every series; return the counts."""
    progress = progress or (lambda message: None)
    url = layout.url('gnocchi', '/v1')
    gnocchi.prepare(layout, sess)
    shift = time_shift(doc, now)
    batch, created, total = {}, 0, 0
    for kind, body, measures in resources(doc, shift):
        response = sess.post('%s/resource/%s' % (url, kind), json=body,
                             raise_exc=False)
        if response.status_code == 409:
            response = sess.get('%s/resource/%s/%s' % (url, kind,
                                                       body['id']),
                                raise_exc=False)
        if response.status_code >= 400:
            _fail(layout, 'creating %s resource %s' % (kind, body['id']),
                  response)
        created += 1
        if measures:
            batch[response.json()['id']] = measures
            total += sum(len(points) for points in measures.values())
        if len(batch) >= BATCH_RESOURCES:
            _post_measures(layout, sess, url, batch)
            batch = {}
    if batch:
        _post_measures(layout, sess, url, batch)
    progress('telemetry: %d resources, %d measures posted (series shifted '
             'by %s to end now)' % (created, total, shift))
    return created, total


def _post_measures(layout, sess, url, batch):
    """Post ``{resource id: {metric: measures}}`` in one request."""
    response = sess.post(url + '/batch/resources/metrics/measures',
                         json=batch, raise_exc=False)
    if response.status_code >= 400:
        _fail(layout, 'posting measures', response)


def wait_processed(layout, sess, timeout=900):
    """Wait until gnocchi-metricd has no measures left to process."""
    url = layout.url('gnocchi', '/v1/status')
    deadline = time.monotonic() + timeout
    backlog = None
    while time.monotonic() < deadline:
        response = sess.get(url, raise_exc=False)
        if response.status_code == 200:
            summary = response.json()['storage']['summary']
            backlog = summary['measures']
            if backlog == 0:
                return
        time.sleep(2)
    raise errors.ServiceFailed(
        service='gnocchi-metricd', reason='%s measures still unprocessed '
        'after %d s' % (backlog, timeout), log=layout.log('gnocchi-metricd'))
