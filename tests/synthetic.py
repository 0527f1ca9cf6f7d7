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
"""Reproducible synthetic clusters for the tests and the benchmarks.

Kept in the test tree (as Watcher keeps its own test data); the benchmarks
under ``tools/bench`` import it from there.

Two hardware types (32 cores / 256 GiB and 64 cores / 512 GiB, CPU allocation
ratio 4), flavours of 1 to 8 vCPUs with 2 to 4 GiB per vCPU, about
``per_host`` instances per host (scaled with host size) and host CPU use
spread around ``utilisation`` (35 % by default, from 10 % to 60 %), so that
some loop hosts run far below their target, as in a real cloud.
"""

import dataclasses

import numpy as np

HARDWARE = {
    # name: (cores, memory MiB, disk GiB, idle W, max W)
    'r32': (32, 262144, 1800, 110.0, 320.0),
    'r64': (64, 524288, 3600, 170.0, 520.0),
}
FLAVOURS = [  # (vCPUs, MiB, GiB)
    (1, 2048, 20), (2, 4096, 40), (2, 8192, 40), (4, 8192, 80),
    (4, 16384, 80), (8, 16384, 160), (8, 32768, 160)]
FLAVOUR_WEIGHTS = [0.15, 0.2, 0.15, 0.2, 0.1, 0.1, 0.1]


@dataclasses.dataclass
class Host:
    name: str
    uuid: str
    hardware: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    vcpu_ratio: float
    idle_power: float
    max_power: float
    loop: bool


@dataclasses.dataclass
class Instance:
    uuid: str
    name: str
    host: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    cpu_percent: float  # mean CPU use in % of its own vCPUs


@dataclasses.dataclass
class Cluster:
    hosts: list
    instances: list
    target_fraction: float  # loop targets at idle + f x (max - idle)

    def target(self, host):
        return host.idle_power + self.target_fraction * (
            host.max_power - host.idle_power)


def generate(n_hosts, seed=0, utilisation=0.35, per_host=10,
             loop_fraction=0.6, target_fraction=0.7):
    """Return a :class:`Cluster` of ``n_hosts`` hosts.

    The first ``loop_fraction`` of the hosts (by name) are on the loop.
    """
    rng = np.random.default_rng(seed)
    hosts, instances = [], []
    n_loop = int(round(loop_fraction * n_hosts))
    for h in range(n_hosts):
        hw = 'r64' if rng.random() < 0.5 else 'r32'
        cores, mem, disk, idle, peak = HARDWARE[hw]
        name = '%s-%04d' % ('loop' if h < n_loop else 'std', h + 1)
        hosts.append(Host(name, 'aaaa%04d-0000-4000-8000-%012d' % (h, h), hw,
                          cores, mem, disk, 4.0, idle, peak, h < n_loop))
        scale = cores / 48.0
        count = max(1, int(rng.poisson(per_host * scale)))
        util = float(np.clip(rng.normal(utilisation, 0.12), 0.10, 0.60))
        flavours = rng.choice(len(FLAVOURS), size=count, p=FLAVOUR_WEIGHTS)
        vcpus = np.array([FLAVOURS[f][0] for f in flavours], float)
        while vcpus.sum() > cores * 4.0 or sum(
                FLAVOURS[f][1] for f in flavours) > mem:
            flavours, vcpus = flavours[:-1], vcpus[:-1]
        # Instance busyness: skewed like PlanetLab VMs (many light, few busy).
        weight = rng.beta(1.2, 2.5, size=len(flavours)) + 0.02
        load = weight * vcpus
        load *= util * cores / load.sum()
        pct = np.clip(100.0 * load / vcpus, 0.5, 100.0)
        for f, p in zip(flavours, pct):
            i = len(instances)
            v, m, d = FLAVOURS[f]
            instances.append(Instance(
                'bbbb%04d-0000-4000-8000-%012d' % (i // 10000, i),
                'vm-%05d' % (i + 1), name, v, m, d, round(float(p), 2)))
    return Cluster(hosts, instances, target_fraction)


def to_model(cluster):
    """Watcher ``ModelRoot`` holding ``cluster`` (for strategies)."""
    from watcher.decision_engine.model import element
    from watcher.decision_engine.model import model_root

    model = model_root.ModelRoot()
    nodes = {}
    for h in cluster.hosts:
        node = element.ComputeNode(
            uuid=h.uuid, hostname=h.name, vcpus=h.vcpus, vcpu_reserved=0,
            vcpu_ratio=h.vcpu_ratio, memory=h.memory_mb,
            memory_mb_reserved=0, memory_ratio=1.0, disk=h.disk_gb,
            disk_gb_reserved=0, disk_ratio=1.0, state='up',
            status='enabled', disabled_reason=None)
        model.add_node(node)
        nodes[h.name] = node
    for i in cluster.instances:
        inst = element.Instance(
            uuid=i.uuid, name=i.name, state='active', vcpus=i.vcpus,
            memory=i.memory_mb, disk=i.disk_gb, metadata={},
            project_id='aaaaaaaa-1111-2222-3333-444444444444',
            locked=False, watcher_exclude=False)
        model.add_instance(inst)
        model.map_instance(inst, nodes[i.host])
    return model


def to_datasource(cluster, now=None, hours=1):
    """Datasource serving each instance's mean CPU use for ``hours``."""
    import datetime

    from heatwatcher.telemetry import series as telemetry_series

    now = now or datetime.datetime(2026, 11, 2, 12, 0,
                                   tzinfo=datetime.timezone.utc)
    samples = 12 * hours
    start = now - datetime.timedelta(hours=hours)
    cpu = {i.uuid: telemetry_series.Series(start, 300,
                                           [i.cpu_percent] * samples)
           for i in cluster.instances}
    return telemetry_series.SeriesDataSource({'instance_cpu_usage': cpu},
                                             now=now)


def strategy_parameters(cluster):
    """heat_consolidation parameters matching ``cluster``'s hardware."""
    return {
        'loop_hosts': [h.name for h in cluster.hosts if h.loop],
        'host_targets': {h.name: round(cluster.target(h), 3)
                         for h in cluster.hosts if h.loop},
        'host_power_profiles': {h.name: [h.idle_power, h.max_power]
                                for h in cluster.hosts},
    }


def to_problem(cluster):
    """Problem heat_consolidation builds for ``cluster``.

    It goes through the strategy's own telemetry, settings, loop-host and
    target, power-model and build steps.
    """
    import types

    from heatwatcher.estimation import sources
    from heatwatcher.optimize import build
    from heatwatcher.strategies import heat_consolidation_settings
    from heatwatcher.telemetry import collect

    snapshot = collect.collect(to_model(cluster), to_datasource(cluster),
                               3600, 300)
    defaults = types.SimpleNamespace(
        **{option.dest: option.default
           for option in heat_consolidation_settings.config_opts()})
    settings = heat_consolidation_settings.resolve(
        defaults, dict(strategy_parameters(cluster), heat_source='history'))
    names = [host.name for host in snapshot.hosts]
    loop, targets = heat_consolidation_settings.loop_hosts_and_targets(
        settings, names)
    models, _ = sources.power_models(settings.power_model, snapshot.hosts,
                                     {})
    return build.build(snapshot, settings, models, loop, targets)[0]


def daily_cycle(uuids, now, days=14, busy=(12, 14), low=10.0, high=80.0,
                noise=0.0, seed=0, step=300):
    """``instance_cpu_usage`` series with the same busy hours every day.

    Each instance runs at ``high`` % during ``busy`` (UTC hours, start
    inclusive, end exclusive) and at ``low`` % otherwise, plus Gaussian
    ``noise`` (percentage points), over the ``days`` before ``now``.

    :returns: ``{uuid: Series}``
    """
    import datetime

    from heatwatcher.telemetry import series as telemetry_series

    rng = np.random.default_rng(seed)
    n = int(days * 86400 // step)
    start = now - datetime.timedelta(seconds=n * step)
    hours = (start.hour + start.minute / 60.0
             + np.arange(n) * step / 3600.0) % 24
    base = np.where((hours >= busy[0]) & (hours < busy[1]), high, low)
    return {u: telemetry_series.Series(start, step, np.clip(
        base + rng.normal(0, noise, n) if noise else base, 0, 100))
        for u in uuids}


def cpu_history(cluster, now=None, days=14, step=300, amplitude=0.5,
                noise=2.0, seed=0, hosts=False):
    """Datasource with ``days`` of ``step``-second CPU history per instance.

    Each instance follows a daily cycle around its ``cpu_percent``
    (``amplitude`` x its mean above and below, busiest at 14:00 UTC), plus
    Gaussian ``noise`` (percentage points), clipped to [0, 100]; the last
    hour is at its mean, so the measured load matches ``cluster``.
    Built with whole arrays (no per-sample Python), so that 50,000
    instances stay cheap to generate.

    With ``hosts``, each host also gets ``host_cpu_usage`` (the sum of its
    instances' vCPU use over its cores, in %, plus 0.5 points of noise) and
    ``host_power`` (linear from its ``idle_power`` to its ``max_power`` in
    that use, plus 2 % noise) over the same steps, so that the audit fits
    power curves as it would on a real cloud.

    :returns: :class:`~heatwatcher.telemetry.series.SeriesDataSource`
        ending at ``now`` (default 2026-11-02 12:00 UTC).
    """
    import datetime

    from heatwatcher.telemetry import series as telemetry_series

    now = now or datetime.datetime(2026, 11, 2, 12, 0,
                                   tzinfo=datetime.timezone.utc)
    rng = np.random.default_rng(seed)
    samples = int(days * 86400 // step)
    start = now - datetime.timedelta(seconds=samples * step)
    hours = (start.timestamp() / 3600.0
             + np.arange(samples) * step / 3600.0) % 24
    shape = np.cos(2 * np.pi * (hours - 14.0) / 24.0)
    last_hour = samples - int(3600 // step)
    cpu = {}
    used = {host.name: np.zeros(samples) for host in cluster.hosts}
    for instance in cluster.instances:
        mean = instance.cpu_percent
        values = mean * (1.0 + amplitude * shape)
        values += rng.normal(0.0, noise, samples)
        values[last_hour:] = mean
        series = telemetry_series.Series(start, step, [])
        series.values = np.clip(values, 0.0, 100.0)
        cpu[instance.uuid] = series
        if hosts:
            used[instance.host] += series.values / 100.0 * instance.vcpus
    metrics = {'instance_cpu_usage': cpu}
    if hosts:
        metrics['host_cpu_usage'], metrics['host_power'] = {}, {}
        for host in cluster.hosts:
            share = np.clip(used[host.name] / host.vcpus, 0.0, 1.0)
            host_cpu = telemetry_series.Series(start, step, [])
            host_cpu.values = np.clip(
                share * 100.0 + rng.normal(0.0, 0.5, samples), 0.0, 100.0)
            power = telemetry_series.Series(start, step, [])
            power.values = (host.idle_power + share * (
                host.max_power - host.idle_power)) * (
                1.0 + rng.normal(0.0, 0.02, samples))
            metrics['host_cpu_usage'][host.name] = host_cpu
            metrics['host_power'][host.name] = power
    return telemetry_series.SeriesDataSource(metrics, now=now)
