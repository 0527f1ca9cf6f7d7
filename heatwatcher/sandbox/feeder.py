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
"""Keep the sandbox's telemetry current, as Ceilometer keeps polling.

``up`` writes the snapshot's history so that it ends at the present; from
then on this process (service ``telemetry-feeder``) writes one new point
per series at every step boundary, so that an audit started an hour later
still reads a full window ending now, not a history that stops when the
sandbox started.

The new points replay the snapshot itself: the value written for time
``t`` is the snapshot's value one replay period earlier (a week when the
history covers a week, so the day category matches; otherwise a day).
The instance CPU counter keeps counting from where the history left it.

Run as ``python -m heatwatcher.sandbox.feeder --dir DIR --snapshot FILE
--shift SECONDS``; it logs one line per write to its log file.
"""

import argparse
import datetime
import logging
import os
import sys
import time

from heatwatcher.sandbox import telemetry
from heatwatcher.snapshot import load as snapshot_load

LOG = logging.getLogger('heatwatcher.sandbox.feeder')
WEEK = 7 * 86400
DAY = 86400


def replay_period(doc):
    """The replay period (s): a week if every series covers one, else a day.

    :raises ValueError: if some series is shorter than a day.
    """
    shortest = min((len(series['values']) * series['step']
                    for per in doc.get('metrics', {}).values()
                    for series in per.values()), default=0)
    if shortest >= WEEK:
        return WEEK
    if shortest >= DAY:
        return DAY
    raise ValueError('the snapshot has a series of %d s; the feeder needs '
                     'at least a day of history to replay' % shortest)


class Feeder:
    """The next points of every series of a snapshot, step by step.

    :param doc: the snapshot (v1 document) that ``up`` wrote.
    :param shift: the time shift ``up`` applied
        (:func:`heatwatcher.sandbox.telemetry.time_shift`).
    """

    def __init__(self, doc, shift):
        self.doc = doc
        self.shift = shift
        self.period = datetime.timedelta(seconds=replay_period(doc))
        # The last stamp written per (resource, metric), and the instance
        # CPU counters where the written history left them (one resource's
        # measures at a time: all of them may not fit in memory).
        self.last, self.counters = {}, {}
        for _, body, measures in telemetry.resources(doc, shift):
            for metric, points in measures.items():
                if points:
                    self.last[(body['id'], metric)] = (
                        snapshot_load._parse_time(points[-1]['timestamp']))
            if measures.get(self.cpu_metric):
                self.counters[body['id']] = (
                    measures[self.cpu_metric][-1]['value'])
        self.series = self._series()
        self.step = datetime.timedelta(seconds=min(
            (series['step'] for _, _, series in self.series), default=300))
        self.next_stamp = min(self.last.values()) + self.step

    @property
    def cpu_metric(self):
        return telemetry.metric_map()['instance_cpu_usage']

    def _series(self):
        """``[(resource id, gnocchi metric, snapshot series)]``."""
        names = telemetry.metric_map()
        hosts = {host['name'] for host in self.doc['hosts']}
        out = []
        for metric, per in self.doc.get('metrics', {}).items():
            if metric not in names:
                continue
            for owner, series in per.items():
                resource = ('%s_%s' % (owner, owner) if owner in hosts
                            else owner)
                out.append((resource, names[metric], series))
        return out

    def _value(self, series, stamp):
        """The snapshot's value one replay period before ``stamp``."""
        start = snapshot_load._parse_time(series['start']) + self.shift
        offset = (stamp - self.period - start).total_seconds()
        index = int(offset // series['step'])
        if 0 <= index < len(series['values']):
            return series['values'][index]
        return None

    def points(self, stamp):
        """The measures for ``stamp``: {resource id: {metric: measures}}."""
        vcpus = {inst['uuid']: max(inst['vcpus'], 1)
                 for inst in self.doc['instances']}
        batch = {}
        for resource, metric, series in self.series:
            last = self.last.get((resource, metric))
            if last is None or stamp <= last:
                continue
            self.last[resource, metric] = stamp
            if metric == self.cpu_metric:
                # The counter at ``stamp`` closes the step before it.
                value = self._value(series, stamp - self.step)
                if value is None:
                    continue
                self.counters[resource] += (value / 100.0 * vcpus[resource]
                                            * series['step'] * 1e9)
                value = self.counters[resource]
            else:
                value = self._value(series, stamp)
                if value is None:
                    continue
            batch.setdefault(resource, {})[metric] = [
                {'timestamp': stamp.isoformat(), 'value': value}]
        return batch

    def due(self, now):
        """The stamps not yet written up to ``now``, oldest first."""
        stamps = []
        while self.next_stamp <= now:
            stamps.append(self.next_stamp)
            self.next_stamp += self.step
        return stamps


def post(sess, url, batch):
    """One batch of measures into Gnocchi; False (logged) if refused."""
    response = sess.post(url + '/v1/batch/resources/metrics/measures',
                         json=batch, raise_exc=False)
    if response.status_code >= 400:
        LOG.warning('gnocchi refused the measures: HTTP %d %s',
                    response.status_code, response.text[:300])
        return False
    return True


def run(layout, feeder, sess, sleep=time.sleep, clock=None, rounds=None):
    """Write the due points forever (or ``rounds`` times, for tests)."""
    clock = clock or (lambda: datetime.datetime.now(telemetry.UTC))
    url = layout.url('gnocchi')
    done = 0
    while rounds is None or done < rounds:
        for stamp in feeder.due(clock()):
            batch = feeder.points(stamp)
            if batch and post(sess, url, batch):
                LOG.info('wrote %d resources at %s', len(batch),
                         stamp.isoformat())
        wait = (feeder.next_stamp - clock()).total_seconds()
        sleep(max(wait, 1.0))
        done += 1


def service(layout, snapshot, shift):
    """The ``telemetry-feeder`` service of a sandbox.

    :param snapshot: path of the snapshot ``up`` wrote into Gnocchi.
    :param shift: the ``datetime.timedelta`` ``up`` applied to it.
    """
    from heatwatcher.sandbox import process
    return process.Service(layout, 'telemetry-feeder', [
        sys.executable, '-m', 'heatwatcher.sandbox.feeder',
        '--dir', layout.dir, '--snapshot', os.path.abspath(snapshot),
        '--shift', str(shift.total_seconds())])


def main(argv=None):
    from heatwatcher.sandbox import keystone
    from heatwatcher.sandbox import layout as sandbox_layout

    parser = argparse.ArgumentParser(prog='heatwatcher-sandbox-feeder')
    parser.add_argument('--dir', required=True)
    parser.add_argument('--snapshot', required=True)
    parser.add_argument('--shift', type=float, required=True,
                        help='seconds added to the snapshot timestamps')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format='%(asctime)s %(levelname)s %(message)s')
    layout, _ = sandbox_layout.Layout.load(args.dir)
    doc = snapshot_load.load(args.snapshot)
    feeder = Feeder(doc, datetime.timedelta(seconds=args.shift))
    LOG.info('replaying the snapshot with a period of %d s from %s',
             feeder.period.total_seconds(), feeder.next_stamp.isoformat())
    run(layout, feeder, keystone.admin_session(layout))


if __name__ == '__main__':
    sys.exit(main())
