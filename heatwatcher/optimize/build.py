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
"""Turn a telemetry snapshot and resolved settings into a :class:`Problem`.

Pure: plain records in, arrays out. Rules applied here:

* capacity = (total - reserved) x allocation ratio x (1 - headroom); the CPU
  load cap = (vCPUs - reserved vCPUs) x (1 - headroom);
* instances move only if not excluded and ``active`` (live migration) or
  ``stopped`` with cold migration allowed; the others keep their host and
  still use its capacity;
* an instance without CPU data follows ``missing_metric_policy``; when no
  instance has any, the build fails (:class:`TelemetryUnavailable`) rather
  than plan on assumed load.
"""

import dataclasses

import numpy as np

from heatwatcher import exception
from heatwatcher.optimize import problem as placement_problem


@dataclasses.dataclass
class BuildInfo:
    """What the build decided besides the arrays.

    :ivar migration_type: ``(N,)`` ``live``/``cold`` per instance.
    :ivar missing: instance uuids without CPU data, by policy applied.
    """

    migration_type: list
    missing: list
    notes: list


def _check(records, fields, kind):
    for rec in records:
        for field in fields:
            value = getattr(rec, field)
            if value is None or not np.isfinite(value) or value < 0:
                raise exception.InvalidClusterData(
                    item='%s %s' % (kind, getattr(rec, 'name', '?')),
                    field=field,
                    reason='expected a number >= 0, got %r' % (value,))


def build(snapshot, settings, models, loop, targets, cpu_percent=None):
    """Build the problem.

    :param snapshot: :class:`~heatwatcher.telemetry.collect.Snapshot`.
    :param settings: resolved strategy settings.
    :param models: :class:`~heatwatcher.estimation.power.PowerModels` for
        ``snapshot.hosts``.
    :param loop: ``(H,)`` bool, loop hosts.
    :param targets: ``(H,)`` target heat rates (W).
    :param cpu_percent: ``(N,)`` load each instance is planned on, in % of
        its vCPUs, NaN where unknown; default: the measured load of the
        snapshot's records.
    :returns: ``(Problem, BuildInfo)``
    """
    hosts, insts = snapshot.hosts, snapshot.instances
    _check(hosts, ('vcpus', 'memory_mb', 'disk_gb', 'vcpu_reserved',
                   'memory_mb_reserved', 'disk_gb_reserved', 'vcpu_ratio',
                   'memory_ratio', 'disk_ratio'), 'host')
    _check(insts, ('vcpus', 'memory_mb', 'disk_gb'), 'instance')
    index = {h.name: k for k, h in enumerate(hosts)}
    keep = 1.0 - settings.headroom
    capacity = np.array(
        [[max(h.vcpus - h.vcpu_reserved, 0) * h.vcpu_ratio,
          max(h.memory_mb - h.memory_mb_reserved, 0) * h.memory_ratio,
          max(h.disk_gb - h.disk_gb_reserved, 0) * h.disk_ratio]
         for h in hosts], dtype=float).reshape(-1, 3) * keep
    load_cap = np.array([max(h.vcpus - h.vcpu_reserved, 0) for h in hosts],
                        dtype=float) * keep
    demand = np.array([[i.vcpus, i.memory_mb, i.disk_gb] for i in insts],
                      dtype=float).reshape(-1, 3)
    vcpus = demand[:, 0]
    if cpu_percent is None:
        cpu_percent = [np.nan if i.cpu_percent is None else i.cpu_percent
                       for i in insts]
    pct = np.asarray(cpu_percent, dtype=float).reshape(len(insts))
    missing = np.isnan(pct)
    policy = settings.missing_metric_policy
    fill = {'assume_full': 100.0, 'assume_idle': 0.0,
            'skip_instance': 0.0}[policy]
    # To the micro-core: float noise from the forecast (1e-13) must not
    # change which plan a node-limited MILP finds.
    load = np.round(np.where(missing, fill, pct) / 100.0 * vcpus, 6)
    states = np.array([i.state for i in insts], dtype=object)
    excluded = np.array([i.excluded for i in insts], dtype=bool)
    live = states == 'active'
    cold = (states == 'stopped') & bool(settings.allow_cold_migration)
    movable = (live | cold) & ~excluded
    if policy == 'skip_instance':
        movable &= ~missing
    notes = []
    if len(insts) and missing.all():
        raise exception.TelemetryUnavailable(
            metric='instance_cpu_usage', count=len(insts),
            period=settings.period,
            detail='; '.join(snapshot.notes[:3]) or 'no data returned')
    if missing.any():
        notes.append('%d instance(s) without instance_cpu_usage over the '
                     'last %d s: %s (%s)'
                     % (missing.sum(), settings.period, policy,
                        ', '.join(i.uuid for i, m in zip(insts, missing)
                                  if m)))
    prob = placement_problem.Problem(
        host_names=[h.name for h in hosts],
        capacity=capacity, load_cap=load_cap,
        curve=np.asarray(models.curves, dtype=float).reshape(-1, 11),
        cores=np.asarray(models.cores, dtype=float),
        loop=np.asarray(loop, dtype=bool),
        target=np.asarray(targets, dtype=float),
        demand=demand, load=load,
        current=np.array([index[i.host] for i in insts], dtype=int),
        movable=movable,
        cost=demand[:, 1].copy())
    prob.validate()
    info = BuildInfo(
        migration_type=['live' if lv else 'cold' for lv in live],
        missing=[i.uuid for i, m in zip(insts, missing) if m],
        notes=notes)
    return prob, info
