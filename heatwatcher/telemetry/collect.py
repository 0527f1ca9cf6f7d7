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
"""Read Watcher's compute model and datasource into plain records, once.

This is the only module that talks to Watcher's model and datasources; the
stages after it work on the :class:`Snapshot` it returns.
"""

from concurrent import futures
import dataclasses
import datetime
import math

import numpy as np
from oslo_log import log

from heatwatcher.telemetry import gnocchi_bulk
from heatwatcher.telemetry import series as series_datasource
from heatwatcher import timestamps

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class HostRecord:
    name: str
    uuid: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    vcpu_reserved: int = 0
    memory_mb_reserved: int = 0
    disk_gb_reserved: int = 0
    vcpu_ratio: float = 1.0
    memory_ratio: float = 1.0
    disk_ratio: float = 1.0
    state: str = 'up'
    status: str = 'enabled'
    disabled_reason: str = None


@dataclasses.dataclass
class InstanceRecord:
    uuid: str
    name: str
    host: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    state: str = 'active'
    excluded: bool = False
    # measured mean CPU use in % of its own vCPUs; None when there is no data
    cpu_percent: float = None
    metadata: dict = dataclasses.field(default_factory=dict)
    project_id: str = ''
    # creation time (aware or naive UTC datetime), None when unknown
    created: datetime.datetime = None


@dataclasses.dataclass
class Snapshot:
    """Eligible hosts (up and enabled), their instances, and notes.

    :ivar skipped_hosts: ``{hostname: reason}`` for hosts left out.
    :ivar notes: what was noticed while reading (missing data, clamping).
    """

    hosts: list
    instances: list
    skipped_hosts: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def missing_cpu(self):
        return [i.uuid for i in self.instances if i.cpu_percent is None]


def host_record(node):
    return HostRecord(
        name=node.hostname, uuid=node.uuid, vcpus=node.vcpus,
        memory_mb=node.memory, disk_gb=node.disk,
        vcpu_reserved=node.vcpu_reserved,
        memory_mb_reserved=node.memory_mb_reserved,
        disk_gb_reserved=node.disk_gb_reserved, vcpu_ratio=node.vcpu_ratio,
        memory_ratio=node.memory_ratio, disk_ratio=node.disk_ratio,
        state=node.state, status=node.status,
        disabled_reason=getattr(node, 'disabled_reason', None))


def instance_record(instance, hostname, cpu_percent=None):
    """Plain record of a Watcher ``Instance`` on ``hostname``."""
    # versioned objects raise, not return None, for unset fields
    created = (instance.created if instance.obj_attr_is_set('created')
               else None)
    return InstanceRecord(
        uuid=instance.uuid, name=instance.name, host=hostname,
        vcpus=instance.vcpus, memory_mb=instance.memory,
        disk_gb=instance.disk, state=instance.state,
        excluded=bool(instance.watcher_exclude), cpu_percent=cpu_percent,
        metadata=dict(instance.metadata or {}),
        project_id=str(instance.project_id or ''), created=created)


def _cpu_percent(datasource, instance, period, granularity, notes):
    try:
        value = datasource.get_instance_cpu_usage(
            resource=instance, period=period, aggregate='mean',
            granularity=granularity)
    except Exception as exc:  # datasource errors are data, not crashes
        LOG.warning('instance_cpu_usage of %s could not be read: %s',
                    instance.uuid, exc)
        notes.append('instance %s: instance_cpu_usage query failed (%s)'
                     % (instance.uuid, exc))
        return None
    return _checked_cpu_percent(instance, value, notes)


def _checked_cpu_percent(instance, value, notes):
    """``value`` as a percent in [0, 100], or None; notes say why."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        notes.append('instance %s: instance_cpu_usage %r is not a number'
                     % (instance.uuid, value))
        return None
    if not math.isfinite(value):
        notes.append('instance %s: instance_cpu_usage is %s'
                     % (instance.uuid, value))
        return None
    if value < 0 or value > 100:
        notes.append('instance %s: instance_cpu_usage %.1f %% clamped to '
                     '[0, 100]' % (instance.uuid, value))
        value = min(max(value, 0.0), 100.0)
    return value


def _cpu_percents(datasource, instances, period, granularity, notes):
    """Measured mean CPU use of ``instances``, ``{uuid: percent or None}``.

    In bulk on Gnocchi (:func:`.gnocchi_bulk.instance_cpu_means`, with a
    note; per instance with a note if the bulk read fails), per instance
    (Watcher's ``get_instance_cpu_usage``) elsewhere.
    """
    if gnocchi_bulk.applies(datasource) and instances:
        by_uuid = {instance.uuid: instance for instance in instances}
        try:
            means, more = gnocchi_bulk.instance_cpu_means(
                datasource, by_uuid, period, granularity)
        except gnocchi_bulk.BulkReadFailed as exc:
            LOG.warning('instance_cpu_usage: bulk read failed, reading per '
                        'instance: %s', exc)
            notes.append('instance_cpu_usage (mean): %s; read per instance '
                         'instead (%d requests)' % (exc, len(instances)))
        else:
            notes.extend(more)
            return {uuid: _checked_cpu_percent(by_uuid[uuid],
                                               means.get(uuid), notes)
                    for uuid in by_uuid}
    return {instance.uuid: _cpu_percent(datasource, instance, period,
                                        granularity, notes)
            for instance in instances}


def collect(compute_model, datasource, period, granularity):
    """Return a :class:`Snapshot` of the audit scope.

    :param compute_model: Watcher's (scoped) ``ModelRoot``.
    :param datasource: Watcher datasource backend (``get_instance_cpu_usage``)
    """
    snap = Snapshot([], [])
    nodes = sorted(compute_model.get_all_compute_nodes().values(),
                   key=lambda n: n.hostname)
    placed = []
    for node in nodes:
        if node.state != 'up' or node.status != 'enabled':
            snap.skipped_hosts[node.hostname] = 'state %s, status %s' % (
                node.state, node.status)
            continue
        snap.hosts.append(host_record(node))
        placed += [(inst, node.hostname) for inst in sorted(
            compute_model.get_node_instances(node), key=lambda i: i.uuid)]
    measured = _cpu_percents(datasource, [inst for inst, _ in placed],
                             period, granularity, snap.notes)
    snap.instances = [instance_record(inst, hostname, measured[inst.uuid])
                      for inst, hostname in placed]
    for name, reason in snap.skipped_hosts.items():
        LOG.info('Host %s is not considered: %s', name, reason)
    return snap


@dataclasses.dataclass
class Cluster:
    """Every compute node of the scope and every instance on them.

    :ivar hosts: :class:`HostRecord` of all nodes, whatever their state.
    :ivar instances: :class:`InstanceRecord`; CPU use is measured for the
        instances on up and enabled hosts (None on the others).
    :ivar notes: what was noticed while reading.
    """

    hosts: list
    instances: list
    notes: list = dataclasses.field(default_factory=list)


def cluster(compute_model, datasource, period, granularity):
    """Read all hosts (up or not) and their instances into a :class:`Cluster`.

    Used by thermal shedding, which must see the hosts it shed (disabled)
    to bring them back. Instances keep the model's order per host.
    """
    snapshot = collect(compute_model, datasource, period, granularity)
    measured = {inst.uuid: inst.cpu_percent for inst in snapshot.instances}
    nodes = sorted(compute_model.get_all_compute_nodes().values(),
                   key=lambda node: node.hostname)
    hosts, instances = [], []
    for node in nodes:
        hosts.append(host_record(node))
        for inst in compute_model.get_node_instances(node):
            instances.append(instance_record(inst, node.hostname,
                                             measured.get(inst.uuid)))
    return Cluster(hosts, instances, list(snapshot.notes))


def host_temperatures(datasource, compute_model, hostnames, metric, period,
                      granularity):
    """Mean ``metric`` (host_outlet_temp or host_inlet_temp) per host.

    :returns: ``({hostname: degC or None}, notes)``; a failed or absurd
        reading is None with a note.
    """
    getter = getattr(datasource, 'get_%s' % metric)
    by_name = {node.hostname: node for node in
               compute_model.get_all_compute_nodes().values()}
    temps, notes = {}, []
    for node in (by_name[name] for name in hostnames):
        try:
            value = getter(node, period, 'mean', granularity)
        except Exception as exc:
            notes.append('%s of %s not read: %s' % (metric, node.hostname,
                                                    exc))
            value = None
        try:
            value = None if value is None else float(value)
        except (TypeError, ValueError):
            value = None
        if value is not None and not (-50.0 < value < 150.0):
            notes.append('%s of %s is %.1f degC: ignored' % (
                metric, node.hostname, value))
            value = None
        if value is None:
            notes.append('%s: no %s' % (node.hostname, metric))
        temps[node.hostname] = value
    return temps, notes


def _now(datasource):
    # Datasources serving recorded series have their own "now"; live ones
    # (Gnocchi, Prometheus) end at the present.
    end = getattr(datasource, 'now', None)
    if not isinstance(end, datetime.datetime):
        end = datetime.datetime.now(datetime.timezone.utc)
    return end


def _read_series(datasource, resources, resource_type, metric, start, end,
                 granularity, what):
    """``statistic_series`` of ``metric`` for each of ``resources``.

    Watcher's ``{timestamp: value}`` answers become
    :class:`~heatwatcher.timestamps.Samples` here, all at once.

    :param resources: ``{key: Watcher resource}``.
    :returns: ``({key: Samples}, notes)``
    """
    per, failures = {}, []
    for key, resource in resources.items():
        try:
            series = datasource.statistic_series(
                resource=resource, resource_type=resource_type,
                meter_name=metric, start_time=start, end_time=end,
                granularity=granularity)
        except Exception as exc:
            failures.append('%s (%s)' % (key, exc))
            continue
        if isinstance(series, dict) and series:
            per[key] = series
        elif series:
            failures.append('%s (%s is not a series)'
                            % (key, type(series).__name__))
    per = dict(zip(per, timestamps.samples_many(list(per.values()))))
    notes = []
    if failures:
        notes.append('%s not read for %d %s: %s'
                     % (metric, len(failures), what,
                        '; '.join(failures[:3])))
    missing = len(resources) - len(per) - len(failures)
    if missing:
        notes.append('%s: no data for %d of %d %s'
                     % (metric, missing, len(resources), what))
    return per, notes


def _read_in_memory(datasource, resources, resource_type, metric, start,
                    end, granularity, what):
    """The in-memory datasource's series, as arrays (no dict round trip).

    :returns: ``({key: Samples}, notes)``, as :func:`_read_series`.
    """
    try:
        per = datasource.bulk_series(resources, resource_type, metric, start,
                                     end, granularity)
    except Exception as exc:  # as every resource's read would fail
        return {}, ['%s not read for %d %s: %s'
                    % (metric, len(resources), what, '; '.join(
                        '%s (%s)' % (key, exc) for key in
                        list(resources)[:3]))]
    missing = len(resources) - len(per)
    notes = []
    if missing:
        notes.append('%s: no data for %d of %d %s'
                     % (metric, missing, len(resources), what))
    return per, notes


def read_metric(datasource, resources, resource_type, metric, start, end,
                granularity, what, resample=None):
    """Read ``metric`` for ``resources``, in bulk where the datasource can.

    On Gnocchi, :mod:`.gnocchi_bulk` reads all the resources through the
    aggregates API; the notes say so, and a failed bulk read falls back to
    Watcher's per-resource ``statistic_series`` with a note. heatwatcher's
    in-memory datasource (:mod:`.series`) hands its arrays over directly.
    Other datasources are read per resource.

    :param resample: None, or ``(seconds, method)``: on the bulk Gnocchi
        path, Gnocchi resamples the series (see :func:`.gnocchi_bulk.read`);
        the other paths, the per-resource fallback included, read every
        ``granularity``.
    :returns: ``({key: Samples}, notes)``
    """
    if isinstance(datasource, series_datasource.SeriesDataSource):
        return _read_in_memory(datasource, resources, resource_type, metric,
                               start, end, granularity, what)
    if not gnocchi_bulk.applies(datasource) or not resources:
        return _read_series(datasource, resources, resource_type, metric,
                            start, end, granularity, what)
    try:
        return gnocchi_bulk.read(datasource, resources, resource_type,
                                 metric, start, end, granularity, what,
                                 resample=resample)
    except gnocchi_bulk.BulkReadFailed as exc:
        LOG.warning('%s: bulk read failed, reading per resource: %s',
                    metric, exc)
        per, notes = _read_series(datasource, resources, resource_type,
                                  metric, start, end, granularity, what)
        return per, ['%s: %s; read per resource instead (%d requests)'
                     % (metric, exc, len(resources))] + notes


def _read_kept(cache, datasource, resources, resource_type, metric, start,
               end, granularity, what, resample=None):
    """:func:`read_metric`, through ``cache`` when there is one.

    heatwatcher's in-memory datasource is never cached: its series are in
    memory already, and its "now" may go back.
    """
    if cache is None or isinstance(datasource,
                                   series_datasource.SeriesDataSource):
        return read_metric(datasource, resources, resource_type, metric,
                           start, end, granularity, what, resample=resample)
    return cache.read(read_metric, datasource, resources, resource_type,
                      metric, start, end, granularity, what,
                      resample=resample)


# Metrics read at once on the bulk Gnocchi path (each read has up to
# gnocchi_bulk.MAX_CONCURRENT_REQUESTS requests in flight): two keep
# gnocchi-api busy while this process parses an answer.
METRICS_AT_ONCE = 2


def read_metrics(datasource, resources, resource_type, metrics, start, end,
                 granularity, what, cache=None):
    """Several ``metrics`` of the same ``resources``.

    Each as :func:`read_metric` reads it (through ``cache`` when there is
    one). On the bulk Gnocchi path up to :data:`METRICS_AT_ONCE` metrics
    are read at the same time, a thread each: a bulk read is a few large
    requests, and gnocchi-api answers one metric's while this process
    parses another's (see ``doc/source/benchmarks/gnocchi_reads.md``).
    Other datasources are read one metric after the other.

    :param resources: ``{key: Watcher resource}``.
    :returns: ``({metric: {key: Samples}}, notes)``, the notes in the
        order of ``metrics``.
    """
    def one(metric):
        return _read_kept(cache, datasource, resources, resource_type,
                          metric, start, end, granularity, what)

    if len(metrics) > 1 and resources and gnocchi_bulk.applies(datasource):
        with futures.ThreadPoolExecutor(
                max_workers=min(len(metrics), METRICS_AT_ONCE),
                thread_name_prefix='gnocchi-metrics') as pool:
            answers = list(pool.map(one, metrics))
    else:
        answers = [one(metric) for metric in metrics]
    out, notes = {}, []
    for metric, (per, more) in zip(metrics, answers):
        out[metric] = per
        notes += more
    return out, notes


def host_series(datasource, compute_model, hostnames, metrics, window,
                granularity, cache=None):
    """History of host ``metrics`` over the last ``window`` seconds.

    A metric the datasource lacks, or a query that fails, gives no series
    for that host and a note; the callers fall back (see the power-model
    chain). The metrics are read as :func:`read_metrics` reads them (at the
    same time on Gnocchi).

    :param cache: None, or a
        :class:`~heatwatcher.telemetry.history_cache.SeriesCache` that keeps
        the series between audits and reads only what is new.

    :returns: ``({metric: {hostname: Samples}}, end time, notes)``
        (:class:`~heatwatcher.timestamps.Samples`)
    """
    end = _now(datasource)
    start = end - datetime.timedelta(seconds=window)
    nodes = {n.hostname: n for n in
             compute_model.get_all_compute_nodes().values()}
    resources = {name: nodes[name] for name in hostnames}
    out, notes = read_metrics(datasource, resources, 'compute_node',
                              list(metrics), start, end, granularity,
                              'hosts', cache=cache)
    return out, end, notes


# Datasources whose instance_cpu_usage *series* is the cumulative CPU time
# counter (ns): Watcher's Gnocchi backend converts it to percent in
# statistic_aggregation (rate:mean) but returns it raw in statistic_series.
CUMULATIVE_CPU_SERIES = ('gnocchi',)


def as_cpu_percent(datasource, series, vcpus):
    """An ``instance_cpu_usage`` series from ``datasource``, in percent.

    Counters (see :data:`CUMULATIVE_CPU_SERIES`) go through
    :func:`cpu_percent_series`; other series are returned as they are, as
    :class:`~heatwatcher.timestamps.Samples`.

    :param series: Samples or ``{timestamp: value}``.
    """
    if getattr(datasource, 'NAME', None) in CUMULATIVE_CPU_SERIES:
        return cpu_percent_series(series, vcpus)
    return timestamps.samples(series)


def cpu_percent_series(series, vcpus):
    """Cumulative CPU time (ns) to percent of ``vcpus``.

    Each value is the CPU use between a sample and the next finite one, in
    percent of ``vcpus``, at the first sample's time; a counter that goes
    back (reboot, migration) or does not advance in time gives no value for
    that interval.

    :param series: :class:`~heatwatcher.timestamps.Samples` or
        ``{timestamp: ns}``.
    :returns: Samples of ``(m,)`` percents, ``m`` < the finite samples.
    """
    samples = timestamps.samples(series)
    finite = np.isfinite(samples.values)
    times, counter = samples.times[finite], samples.values[finite]
    elapsed = np.diff(times)
    used = np.diff(counter)
    valid = (elapsed > 0) & (used >= 0)
    percent = (used[valid] / elapsed[valid] / 1e9 / max(vcpus, 1) * 100.0)
    return timestamps.Samples(times[:-1][valid], percent)


def instance_series(datasource, compute_model, uuids, window, granularity,
                    slot=None, cache=None):
    """``instance_cpu_usage`` history of ``uuids`` over the last ``window``.

    Percent of each instance's vCPUs, whichever datasource serves it (see
    :func:`cpu_percent_series`), read in bulk on Gnocchi (see
    :func:`read_metric`).

    :param slot: None, or the seconds of the forecast's slot (a multiple
        of ``granularity``) when only slot means are needed: the read then
        begins at the start of the slot that holds ``end - window``, as
        :func:`heatwatcher.forecast.history.matrix` does. On the bulk
        Gnocchi path, Gnocchi then answers one value a slot instead of one
        every ``granularity`` (its API spends most of its time per point
        answered): the CPU counter resampled with ``min``, its value at the
        slot's first sample, so that the change to the next slot is the CPU
        used in the slot. Where every slot's first sample is present, the
        slot means equal those of the full series (to rounding); a slot
        whose first sample is missing takes its value at the first sample
        there is, and loses the missing part. Other series are resampled
        with ``mean``.
    :returns: ``({uuid: Samples}, end time, notes)``
        (:class:`~heatwatcher.timestamps.Samples`)
    """
    end = _now(datasource)
    start = end - datetime.timedelta(seconds=window)
    if slot:   # from the first slot's start (the matrix's first slot)
        start = timestamps.window_start(end, window, slot)
    resources = {u: compute_model.get_instance_by_uuid(u) for u in uuids}
    resample = None
    if slot and slot > granularity and slot % granularity == 0:
        cumulative = (getattr(datasource, 'NAME', None)
                      in CUMULATIVE_CPU_SERIES)
        resample = (int(slot), 'min' if cumulative else 'mean')
    out, notes = _read_kept(cache, datasource, resources, 'instance',
                            'instance_cpu_usage', start, end, granularity,
                            'instances', resample=resample)
    out = {u: as_cpu_percent(datasource, s, resources[u].vcpus)
           for u, s in out.items()}
    return out, end, notes


def baremetal_nodes(metal_helper, hostnames):
    """Map ``hostnames`` to bare metal node ids through Watcher's helper.

    :returns: ``{hostname: node id}`` for the hosts that have one.
    """
    wanted = set(hostnames)
    found = {}
    for node in metal_helper.list_compute_nodes():
        try:
            hv = node.get_hypervisor_node()
        except Exception as exc:
            LOG.debug('Bare metal node %s has no hypervisor: %s',
                      node.get_id(), exc)
            continue
        names = {getattr(hv, 'hypervisor_hostname', None),
                 getattr(hv, 'service_host', None)}
        for name in names & wanted:
            found[name] = node.get_id()
    return found
