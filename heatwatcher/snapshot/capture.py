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
"""Capture a snapshot of a live cloud.

Hypervisors, servers of all projects and placement inventories come through
the OpenStack SDK (standard ``OS_*`` variables or ``clouds.yaml``); metric
series come through Watcher's datasource manager, configured like the
decision engine (``--config-file watcher.conf``).
"""

import datetime
import re
import types

import numpy as np
from oslo_log import log

from heatwatcher.estimation import fit
from heatwatcher import exception
from heatwatcher.telemetry import collect

LOG = log.getLogger(__name__)
UTC = datetime.timezone.utc
INSTANCE_METRICS = ('instance_cpu_usage',)
HOST_METRICS = ('host_cpu_usage', 'host_power', 'host_inlet_temp',
                'host_outlet_temp')


class CaptureError(exception.HeatwatcherException):
    msg_fmt = 'cannot capture the snapshot: %(reason)s'


def parse_window(text):
    """``'14d'``, ``'12h'``, ``'90m'``, ``'3600s'`` or seconds -> seconds."""
    match = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*', str(text))
    if not match:
        raise CaptureError(reason='--window %r: expected a duration such as '
                                  '14d, 12h, 90m or 3600s' % text)
    scale = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[match.group(2)]
    seconds = float(match.group(1)) * scale
    if seconds <= 0:
        raise CaptureError(reason='--window must be positive')
    return seconds


def connect(cloud=None):
    """OpenStack SDK connection from ``OS_*`` variables or clouds.yaml."""
    import openstack
    try:
        return openstack.connect(cloud=cloud)
    except Exception as exc:
        raise CaptureError(reason='no usable OpenStack credentials (%s)'
                                  % exc)


def datasource_backend(metrics=INSTANCE_METRICS):
    """Watcher's datasource backend as configured in watcher.conf."""
    from oslo_config import cfg
    from watcher.decision_engine.datasources import manager
    try:
        return manager.DataSourceManager(
            config=cfg.CONF.watcher_datasources).get_backend(list(metrics))
    except Exception as exc:
        LOG.warning('No datasource for %s: %s; the snapshot will have no '
                    'metrics', ', '.join(metrics), exc)
        return None


def _inventories(conn, provider_uuid):
    response = conn.placement.get('/resource_providers/%s/inventories'
                                  % provider_uuid)
    response.raise_for_status()
    return response.json().get('inventories', {})


def _hosts(conn):
    providers = {}
    response = conn.placement.get('/resource_providers')
    response.raise_for_status()
    for provider in response.json().get('resource_providers', []):
        providers[provider['uuid']] = provider
    hosts = []
    for hypervisor in conn.compute.hypervisors(details=True):
        service = hypervisor.service_details or {}
        name = service.get('host') or hypervisor.name
        inventory = (_inventories(conn, hypervisor.id)
                     if hypervisor.id in providers else {})
        vcpu, memory, disk = (inventory.get(resource_class, {})
                              for resource_class in
                              ('VCPU', 'MEMORY_MB', 'DISK_GB'))
        host = {
            'name': name, 'uuid': hypervisor.id,
            'vcpus': int(vcpu.get('total', hypervisor.vcpus or 0)),
            'memory_mb': int(memory.get('total', hypervisor.memory_size or 0)),
            'disk_gb': int(disk.get('total', hypervisor.local_disk_size or 0)),
            'vcpu_reserved': int(vcpu.get('reserved', 0)),
            'memory_mb_reserved': int(memory.get('reserved', 0)),
            'disk_gb_reserved': int(disk.get('reserved', 0)),
            'vcpu_ratio': float(vcpu.get('allocation_ratio', 1.0)),
            'memory_ratio': float(memory.get('allocation_ratio', 1.0)),
            'disk_ratio': float(disk.get('allocation_ratio', 1.0)),
            'state': hypervisor.state or 'up',
            'status': hypervisor.status or 'enabled'}
        if service.get('disabled_reason'):
            host['disabled_reason'] = service['disabled_reason']
        hosts.append(host)
    return sorted(hosts, key=lambda host: host['name'])


def _instances(conn, host_names):
    instances = []
    for server in conn.compute.servers(details=True, all_projects=True):
        host = server.compute_host
        if host not in host_names:
            LOG.info('Server %s is on %r, not a captured host; skipped',
                     server.id, host)
            continue
        flavor = server.flavor
        instances.append({
            'uuid': server.id, 'name': server.name or server.id, 'host': host,
            'vcpus': int(flavor.vcpus or 0), 'memory_mb': int(flavor.ram or 0),
            'disk_gb': int((flavor.disk or 0) + (flavor.ephemeral or 0)),
            'state': server.vm_state or 'active',
            'metadata': {str(k): str(v) for k, v in
                         (server.metadata or {}).items()},
            'project_id': server.project_id or ''})
    return sorted(instances, key=lambda instance: instance['uuid'])


def _metric_series(datasource, resources, kind, metric, start, end, step,
                   progress):
    """One metric of many resources, gridded for the snapshot document.

    Reads through :func:`heatwatcher.telemetry.collect.read_metric`: in bulk
    from Gnocchi (or the in-memory datasource), per resource otherwise; its
    notes go to the log and to ``progress``.

    :param resources: ``{key: resource}`` (instances: ``uuid``, ``vcpus``;
        hosts: ``uuid``, ``hostname``).
    :returns: ``{key: {'start', 'step', 'values'}}`` for the resources with
        data, ``values`` the grid (None where no sample).
    """
    what = 'instances' if kind == 'instance' else 'hosts'
    read, notes = collect.read_metric(datasource, resources, kind, metric,
                                      start, end, step, what)
    for note in notes:
        LOG.warning('snapshot: %s', note)
        progress(note)
    if metric == 'instance_cpu_usage':
        read = {key: collect.as_cpu_percent(datasource, samples,
                                            resources[key].vcpus)
                for key, samples in read.items()}
    n_steps = int(round((end - start).total_seconds() / step))
    grid = fit.to_grid_many(list(read.values()), start.timestamp(), step,
                            n_steps)
    values = np.where(np.isnan(grid), None, grid).tolist()
    return {key: {'start': start.isoformat(), 'step': step,
                  'values': row} for key, row in zip(read, values)}


def capture(conn, datasource, window, now=None, step=300, progress=None):
    """Return a snapshot document of the cloud behind ``conn``.

    :param window: seconds of metric history to capture.
    :param datasource: Watcher datasource backend, or None for no metrics.
    """
    progress = progress or (lambda message: None)
    now = (now or datetime.datetime.now(UTC)).replace(microsecond=0)
    now = now - datetime.timedelta(seconds=now.timestamp() % step)
    try:
        hosts = _hosts(conn)
        instances = _instances(conn, {host['name'] for host in hosts})
    except exception.HeatwatcherException:
        raise
    except Exception as exc:
        raise CaptureError(reason=str(exc))
    progress('%d hosts, %d instances' % (len(hosts), len(instances)))
    metrics = {}
    start = now - datetime.timedelta(seconds=window)
    if datasource is not None:
        instance_resources = {
            instance['uuid']: types.SimpleNamespace(
                uuid=instance['uuid'], vcpus=instance['vcpus'])
            for instance in instances}
        host_resources = {
            host['name']: types.SimpleNamespace(uuid=host['uuid'],
                                                hostname=host['name'])
            for host in hosts}
        for metric in INSTANCE_METRICS:
            series = _metric_series(datasource, instance_resources,
                                    'instance', metric, start, now, step,
                                    progress)
            if series:
                metrics[metric] = series
        for metric in HOST_METRICS:
            if datasource.METRIC_MAP.get(metric) is None:
                continue
            series = _metric_series(datasource, host_resources,
                                    'compute_node', metric, start, now, step,
                                    progress)
            if series:
                metrics[metric] = series
        progress('metrics: %s' % ', '.join(
            '%s (%d)' % (name, len(by_key))
            for name, by_key in metrics.items()))
    return {'version': 1, 'captured_at': now.isoformat(), 'hosts': hosts,
            'instances': instances, 'metrics': metrics}
