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
"""Turn the telemetry layer's records into what shedding decides on. Pure.

Cluster records (:class:`~heatwatcher.telemetry.collect.Cluster`),
temperatures, bare metal node ids and power models in;
:class:`~heatwatcher.thermal.plan.Host` and
:class:`~heatwatcher.thermal.plan.Inst` records out. Which zone a host is
in and whether it is protected come from the settings' host patterns.
"""

import datetime

import numpy as np

from heatwatcher import hostnames
from heatwatcher.thermal import plan


def zone_of(thermal_zones, hostname):
    """The zone whose patterns name ``hostname`` (zones in sorted order).

    :param thermal_zones: ``{zone: [patterns]}``; empty means one zone,
        ``all``, of every host.
    :returns: the zone, or None for a host in no zone (never touched).
    """
    if not thermal_zones:
        return 'all'
    for zone in sorted(thermal_zones):
        if hostnames.matches_any(thermal_zones[zone], hostname):
            return zone
    return None


def age_seconds(now, created):
    """Seconds since ``created`` (naive datetimes are UTC); 0 if unknown."""
    if created is None:
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    return max((now - created).total_seconds(), 0.0)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def shed_hosts(cluster, disabled_reason):
    """Hostnames this strategy shed earlier (disabled with its reason)."""
    return {host.name for host in cluster.hosts
            if host.status == 'disabled'
            and host.disabled_reason == disabled_reason}


def shedding_records(cluster, settings, temperatures, baremetal, models,
                     shed, now):
    """Records for :func:`~heatwatcher.thermal.plan.decide`.

    :param cluster: :class:`~heatwatcher.telemetry.collect.Cluster`.
    :param settings: resolved thermal_shedding settings.
    :param temperatures: ``{hostname: degC or None}``.
    :param baremetal: ``{hostname: bare metal node id}``.
    :param models: :class:`~heatwatcher.estimation.power.PowerModels` of
        ``cluster.hosts``, in that order.
    :param shed: hostnames shed earlier (:func:`shed_hosts`).
    :param now: aware datetime, for instance ages.
    :returns: ``(hosts, instances)``
    """
    index = {host.name: position for position, host
             in enumerate(cluster.hosts)}
    load = np.zeros(len(cluster.hosts))
    used = np.zeros((len(cluster.hosts), 3))
    instances = []
    for inst in cluster.instances:
        position = index[inst.host]
        cores = inst.vcpus * (100.0 if inst.cpu_percent is None
                              else inst.cpu_percent) / 100.0
        load[position] += cores
        used[position] += (inst.vcpus, inst.memory_mb, inst.disk_gb)
        instances.append(plan.Inst(
            uuid=inst.uuid, host=inst.host,
            demand=np.array([inst.vcpus, inst.memory_mb, inst.disk_gb],
                            float),
            load=cores, state=inst.state,
            priority=_number(inst.metadata.get('heatwatcher_priority')),
            project=settings.project_priorities.get(inst.project_id, 0.0),
            age=age_seconds(now, inst.created),
            group=inst.metadata.get('heatwatcher_server_group')))
    heat = models.heat_rate(load)
    hosts = []
    for position, host in enumerate(cluster.hosts):
        # Watcher's own capacity: (total - reserved) x allocation ratio.
        capacity = np.array([
            (host.vcpus - host.vcpu_reserved) * host.vcpu_ratio,
            (host.memory_mb - host.memory_mb_reserved) * host.memory_ratio,
            (host.disk_gb - host.disk_gb_reserved) * host.disk_ratio],
            float)
        hosts.append(plan.Host(
            name=host.name, zone=zone_of(settings.thermal_zones, host.name),
            active=host.state == 'up' and host.status == 'enabled',
            shed=host.name in shed,
            protected=hostnames.matches_any(settings.protected_hosts,
                                            host.name),
            temperature=temperatures.get(host.name),
            heat=float(heat[position]),
            idle=float(models.curves[position, 0]), cores=float(host.vcpus),
            room=np.maximum(capacity - used[position], 0.0),
            node=baremetal.get(host.name)))
    return hosts, instances
