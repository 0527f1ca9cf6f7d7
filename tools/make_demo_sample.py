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
"""Make the bundled demo snapshot, reproducibly.

1. ``--fit``: fit a small workload profile to the PlanetLab traces in
   ``../shared/data/planetlab`` and write it to
   ``heatwatcher/samples/planetlab-profile.json``: the daily shape (mean load
   per hour relative to the VM-day mean) for weekdays and weekends, the
   distribution of VM-day mean loads (a Beta fit), the weekend/weekday level
   ratio, and the 5-minute noise (relative sigma and lag-1 autocorrelation).
   The traces themselves are not copied: their licence is unclear.
2. Generate ``heatwatcher/samples/demo-snapshot.json.gz`` from that profile
   and a seed: 20 hosts of two hardware types whose power follows the shapes
   of SPECpower curves (``../shared/data/specpower``, copied into the
   profile as 11-point shapes), 200 instances, two weeks of 5-minute
   ``instance_cpu_usage``, ``host_cpu_usage`` and ``host_power`` series.
   Instances sit on hosts round-robin, so loop hosts start far below target.

Usage: ``python tools/make_demo_sample.py [--fit] [--seed 42]``
"""

import argparse
import datetime
import gzip
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, 'heatwatcher', 'samples')
PROFILE = os.path.join(SAMPLES, 'planetlab-profile.json')
SAMPLE = os.path.join(SAMPLES, 'demo-snapshot.json.gz')
SHARED = os.path.join(os.path.dirname(ROOT), 'shared', 'data')
WEEKEND = {'20110306', '20110403', '20110409'}
NOW = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.timezone.utc)
STEP = 300
DAYS = 14
# name prefix: (count, cores, RAM MiB, disk GiB, idle W, max W, SPEC shape)
HARDWARE = {
    'a': (10, 32, 262144, 1800, 110.0, 380.0, 'IbmX3550XeonX5670'),
    'b': (10, 48, 393216, 2400, 150.0, 420.0, 'HpProLiantMl110G5Xeon3075'),
}
FLAVOURS = [(1, 2048, 20), (2, 4096, 40), (2, 8192, 40), (4, 8192, 80),
            (4, 16384, 80), (8, 16384, 160)]


def fit_profile():
    """Fit the workload profile to the PlanetLab traces in ../shared."""
    import csv
    path = os.path.join(SHARED, 'planetlab', 'planetlab-cpu.csv.gz')
    rows = {'weekday': [], 'weekend': []}
    with gzip.open(path, 'rt') as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            cat = 'weekend' if row[0] in WEEKEND else 'weekday'
            rows[cat].append(np.array(row[2:], dtype=float))
    out = {'source': 'PlanetLab CoMon traces (CloudSim), 10 days',
           'shape': {}, 'level': {}}
    means, sigmas, phis = [], [], []
    for cat, days in rows.items():
        x = np.array(days)
        m = x.mean(axis=1, keepdims=True)
        ok = m[:, 0] > 1.0
        rel = x[ok] / m[ok]
        hourly = rel.reshape(len(rel), 24, 12).mean(axis=(0, 2))
        shape = hourly / hourly.mean()
        out['shape'][cat] = [round(float(v), 4) for v in shape]
        out['level'][cat] = round(float(m.mean()), 3)
        means.append(m[:, 0])
        resid = rel / np.repeat(hourly / hourly.mean(), 12)[None, :] - 1
        sigmas.append(float(resid.std()))
        a, b = resid[:, :-1].ravel(), resid[:, 1:].ravel()
        phis.append(float(np.corrcoef(a, b)[0, 1]))
    mu = np.concatenate(means) / 100.0
    mu = np.clip(mu, 1e-3, 1 - 1e-3)
    mean, var = mu.mean(), mu.var()
    common = mean * (1 - mean) / var - 1
    out['beta'] = [round(float(mean * common), 4),
                   round(float((1 - mean) * common), 4)]
    out['noise_sigma'] = round(float(np.mean(sigmas)), 4)
    out['noise_phi'] = round(float(np.mean(phis)), 4)
    with open(os.path.join(SHARED, 'specpower', 'specpower.json')) as f:
        spec = json.load(f)['servers']
    out['power_shapes'] = {}
    for name, server in spec.items():
        w = np.array(server['watts'])
        out['power_shapes'][name] = [round(float(v), 4) for v in
                                     (w - w[0]) / (w[-1] - w[0])]
    with open(PROFILE, 'w') as f:
        json.dump(out, f, indent=1)
    return out


def _ar1(rng, n, phi, sigma):
    e = rng.standard_normal(n) * sigma * np.sqrt(1 - phi ** 2)
    out = np.empty(n)
    out[0] = rng.standard_normal() * sigma
    for k in range(1, n):
        out[k] = phi * out[k - 1] + e[k]
    return out


def generate(profile, seed=42):
    rng = np.random.default_rng(seed)
    n = DAYS * 86400 // STEP
    start = NOW - datetime.timedelta(seconds=n * STEP)
    t = np.array([start + datetime.timedelta(seconds=k * STEP)
                  for k in range(n)])
    weekend = np.array([d.weekday() >= 5 for d in t])
    hour = np.array([d.hour + d.minute / 60.0 for d in t])
    shapes = {c: np.interp(hour, np.arange(24) + 0.5,
                           np.array(profile['shape'][c]), period=24)
              for c in ('weekday', 'weekend')}
    shape = np.where(weekend, shapes['weekend'], shapes['weekday'])
    level_ratio = profile['level']['weekend'] / profile['level']['weekday']
    hosts, loop, targets, profiles = [], [], {}, {}
    for prefix, (count, cores, mem, disk, idle, peak, _) in HARDWARE.items():
        profiles['%s-*' % prefix] = '%g/%g' % (idle, peak)
        for k in range(count):
            name = '%s-%02d' % (prefix, k + 1)
            hosts.append({'name': name, 'uuid': 'demo-node-%s' % name,
                          'vcpus': cores, 'memory_mb': mem, 'disk_gb': disk,
                          'vcpu_ratio': 4.0, 'memory_ratio': 1.0,
                          'baremetal_node': 'demo-ironic-%s' % name})
            if k < 6:
                loop.append(name)
                targets[name] = round(idle + 0.35 * (peak - idle), 1)
    instances, metrics = [], {'instance_cpu_usage': {}, 'host_cpu_usage': {},
                              'host_power': {}}
    load = {h['name']: np.zeros(n) for h in hosts}
    for i in range(200):
        h = hosts[i % len(hosts)]
        v, m, d = FLAVOURS[rng.integers(len(FLAVOURS))]
        level = 100 * rng.beta(*profile['beta'])
        noise = _ar1(rng, n, profile['noise_phi'], profile['noise_sigma'])
        pct = level * shape * np.where(weekend, level_ratio, 1.0) * (1 + noise)
        pct = np.clip(np.round(pct), 0, 100)
        uuid = 'dddd%04d-0000-4000-8000-%012d' % (i, i)
        instances.append({'uuid': uuid, 'name': 'demo-vm-%03d' % (i + 1),
                          'host': h['name'], 'vcpus': v, 'memory_mb': m,
                          'disk_gb': d,
                          'project_id': '%032x' % (0xabc0 + i % 4)})
        metrics['instance_cpu_usage'][uuid] = {
            'start': start.isoformat(), 'step': STEP,
            'values': [int(x) for x in pct]}
        load[h['name']] += pct / 100.0 * v
    for h in hosts:
        prefix = h['name'][0]
        _, cores, _, _, idle, peak, spec = HARDWARE[prefix]
        util = np.clip(load[h['name']] / cores, 0, 1)
        util_obs = np.clip(util * 100 + rng.normal(0, 0.5, n), 0, 100)
        curve = np.array(profile['power_shapes'][spec])
        watts = idle + (peak - idle) * np.interp(util, np.linspace(0, 1, 11),
                                                 curve)
        watts *= 1 + rng.normal(0, 0.02, n)
        metrics['host_cpu_usage'][h['name']] = {
            'start': start.isoformat(), 'step': STEP,
            'values': [round(float(x), 1) for x in util_obs]}
        metrics['host_power'][h['name']] = {
            'start': start.isoformat(), 'step': STEP,
            'values': [round(float(x), 1) for x in watts]}
    return {
        'version': 1, 'captured_at': NOW.isoformat(), 'hosts': hosts,
        'instances': instances, 'metrics': metrics,
        'options': {'heat_consolidation': {
            'loop_hosts': loop, 'host_targets': targets,
            'host_power_profiles': profiles}}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--fit', action='store_true',
                    help='refit the profile to ../shared first')
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--out', default=SAMPLE)
    args = ap.parse_args(argv)
    if args.fit:
        profile = fit_profile()
    else:
        with open(PROFILE) as f:
            profile = json.load(f)
    doc = generate(profile, args.seed)
    sys.path.insert(0, ROOT)
    from heatwatcher.snapshot import load
    load.parse(json.dumps(doc), args.out)
    load.dump(doc, args.out)
    print('%s: %d bytes' % (args.out, os.path.getsize(args.out)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
