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
"""Small hand-made placement problems."""

import numpy as np

from heatwatcher.optimize import problem as placement_problem

# 16 cores from 100 W idle to 350 W: 15.625 W per busy core; 200 W needs
# 6.4 busy cores.
HOST = dict(vcpus=64, cores=16, idle=100.0, peak=350.0, loop=True,
            target=200.0)
OFF_LOOP = dict(HOST, loop=False)


def instance(host, load=3.4):
    """An instance of 4 vCPUs and 4 GiB on ``host`` using ``load`` cores."""
    return dict(host=host, vcpus=4, load=load, ram=4096)


def one_host_at_target():
    """Two :data:`HOST` and an :data:`OFF_LOOP` host.

    Host 0 is at target with two instances (6.8 busy cores, 206.25 W);
    host 1 holds one instance using 3 cores, host 2 one using 1 core.
    """
    return make_problem([HOST, HOST, OFF_LOOP],
                        [instance(0), instance(0), instance(1, load=3.0),
                         instance(2, load=1.0)])


def make_problem(hosts, instances):
    """Build a Problem from plain tuples.

    :param hosts: list of dicts with ``vcpus`` (capacity), ``cores``,
        ``idle``, ``peak``, ``loop``, ``target`` and optional ``ram``,
        ``disk``.
    :param instances: list of dicts with ``host`` (index), ``vcpus``,
        ``load`` (cores) and optional ``ram``, ``disk``, ``movable``.
    """
    cores = np.array([h['cores'] for h in hosts], float)
    idle = np.array([h['idle'] for h in hosts], float)
    peak = np.array([h['peak'] for h in hosts], float)
    return placement_problem.Problem(
        host_names=['h%d' % k for k in range(len(hosts))],
        capacity=np.array([[h['vcpus'], h.get('ram', 1e6),
                            h.get('disk', 1e6)] for h in hosts], float),
        load_cap=cores.copy(),
        curve=idle[:, None] + (peak - idle)[:, None] * placement_problem.GRID,
        cores=cores,
        loop=np.array([h['loop'] for h in hosts], bool),
        target=np.array([h['target'] for h in hosts], float),
        demand=np.array([[i['vcpus'], i.get('ram', 1024),
                          i.get('disk', 10)] for i in instances],
                        float).reshape(-1, 3),
        load=np.array([i['load'] for i in instances], float),
        current=np.array([i['host'] for i in instances], int),
        movable=np.array([i.get('movable', True) for i in instances], bool),
        cost=np.array([i.get('ram', 1024) for i in instances], float))


def random_problem(rng, n_hosts, n_instances, loop_share=0.6):
    hosts = []
    for k in range(n_hosts):
        cores = float(rng.choice([8, 16]))
        hosts.append(dict(vcpus=cores * 2, cores=cores, idle=100.0,
                          peak=300.0, loop=bool(rng.random() < loop_share),
                          target=float(rng.choice([140, 180, 220])),
                          ram=float(rng.choice([16384, 32768]))))
    instances = []
    for _ in range(n_instances):
        v = int(rng.choice([1, 2, 4]))
        instances.append(dict(host=int(rng.integers(n_hosts)), vcpus=v,
                              load=float(rng.uniform(0.1, 1.0) * v),
                              ram=float(rng.choice([1024, 2048, 4096])),
                              movable=bool(rng.random() < 0.9)))
    p = make_problem(hosts, instances)
    # make the current placement feasible
    used, load, _ = p.host_usage(p.current)
    p.capacity = np.maximum(p.capacity, used)
    p.load_cap = np.maximum(p.load_cap, load)
    return p
