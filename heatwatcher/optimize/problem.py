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
"""The placement problem as plain arrays, validated in one place.

Notation used throughout :mod:`heatwatcher.optimize`:

* ``H`` hosts, ``N`` instances, ``R = 3`` resources (vCPU, RAM MB, disk GB).
* A host's heat rate (W) is its electrical power, ``curve[h]`` interpolated
  at its CPU utilisation ``min(load_on_h / cores[h], 1)``: ``curve[h]`` is
  the power at 0, 10, ..., 100 % CPU (monotone non-decreasing; linear for
  the configured idle/max model, fitted otherwise).
* A loop host reaches its target when it hosts at least one instance and its
  heat rate is at or above ``target[h]``. The curve is monotone, so this is
  exactly ``load_on_h >= need[h]`` with ``need[h] = cores[h] *
  curve[h]^-1(target[h])``: the optimiser works on load thresholds and is
  exact for any curve, linear or not.
"""

import dataclasses

import numpy as np

from heatwatcher import exception

RESOURCES = ('vcpus', 'memory_mb', 'disk_gb')
GRID = np.linspace(0.0, 1.0, 11)


def inverse_utilisation(curves, watts):
    """Smallest utilisation in [0, 1] at which each curve reaches ``watts``.

    :param curves: ``(H, 11)`` monotone power curves (W).
    :param watts: ``(H,)`` power to reach (W).
    :returns: ``(H,)``; 0 where idle power reaches it, ``inf`` where the
        curve never does.
    """
    curves = np.atleast_2d(curves)
    watts = np.atleast_1d(np.asarray(watts, dtype=float))
    segment = np.clip((curves < watts[:, None]).sum(axis=1), 1, 10)
    rows = np.arange(len(watts))
    lo, hi = curves[rows, segment - 1], curves[rows, segment]
    with np.errstate(divide='ignore', invalid='ignore'):
        frac = np.where(hi > lo, (watts - lo) / (hi - lo), 0.0)
    util = GRID[segment - 1] + np.clip(frac, 0.0, 1.0) * 0.1
    util = np.where(watts <= curves[:, 0], 0.0, util)
    return np.where(watts > curves[:, -1] + 1e-9, np.inf, util)


@dataclasses.dataclass
class Problem:
    """Instances to place on hosts.

    :ivar host_names: list of ``H`` hostnames.
    :ivar capacity: ``(H, 3)`` usable vCPU, RAM (MB), disk (GB):
        (total - reserved) x allocation ratio x (1 - headroom).
    :ivar load_cap: ``(H,)`` cores of CPU the host may run (its physical cores
        x (1 - headroom)).
    :ivar curve: ``(H, 11)`` power (W) at 0, 10, ..., 100 % CPU.
    :ivar cores: ``(H,)`` physical cores (100 % CPU = all busy).
    :ivar loop: ``(H,)`` bool, host is attached to the heat-reuse loop.
    :ivar target: ``(H,)`` target minimum heat rate (W); ignored off loop.
    :ivar demand: ``(N, 3)`` allocation of each instance (vCPU, MB, GB).
    :ivar load: ``(N,)`` expected CPU use of each instance (cores).
    :ivar current: ``(N,)`` index of the host each instance is on now.
    :ivar movable: ``(N,)`` bool; immovable instances still use capacity.
    :ivar cost: ``(N,)`` migration cost of each instance (RAM MB).
    """

    host_names: list
    capacity: np.ndarray
    load_cap: np.ndarray
    curve: np.ndarray
    cores: np.ndarray
    loop: np.ndarray
    target: np.ndarray
    demand: np.ndarray
    load: np.ndarray
    current: np.ndarray
    movable: np.ndarray
    cost: np.ndarray

    @property
    def n_hosts(self):
        return len(self.host_names)

    @property
    def n_instances(self):
        return self.demand.shape[0]

    @property
    def idle(self):
        """``(H,)`` power at 0 % CPU (W)."""
        return self.curve[:, 0]

    @property
    def need(self):
        """``(H,)`` cores of load each loop host needs to reach its target.

        0 where idle power alone reaches it, ``inf`` where the host cannot
        reach it at all (a target above its curve, or above what it draws
        at its load cap).
        """
        if self.n_hosts == 0:
            return np.zeros(0)
        need = self.cores * inverse_utilisation(self.curve, self.target)
        need = np.where(need > self.load_cap + 1e-9, np.inf, need)
        return np.where(self.loop, need, np.inf)

    def heat_at(self, load):
        """``(H,)`` heat rate (W) of each host at ``load`` ``(H,)`` cores."""
        util = np.clip(np.minimum(load, self.load_cap)
                       / np.maximum(self.cores, 1e-9), 0.0, 1.0)
        segment = np.minimum((util * 10).astype(int), 9)
        frac = util * 10 - segment
        rows = np.arange(self.n_hosts)
        return (self.curve[rows, segment] * (1 - frac)
                + self.curve[rows, segment + 1] * frac)

    def host_usage(self, assign):
        """Return ``(used (H, 3), load (H,), count (H,))`` for ``assign``."""
        n_hosts = self.n_hosts
        used = np.zeros((n_hosts, 3))
        np.add.at(used, assign, self.demand)
        load = np.bincount(assign, weights=self.load, minlength=n_hosts)
        count = np.bincount(assign, minlength=n_hosts)
        return used, load, count

    def heat_rate(self, assign):
        """``(H,)`` heat rate (W) of every host if it stays powered on."""
        _, load, _ = self.host_usage(assign)
        return self.heat_at(load)

    def validate(self):
        """Check shapes and values; raise :class:`InvalidProblem` if bad."""
        h, n = self.n_hosts, self.n_instances  # H, N of the notation
        shapes = {
            'capacity': (h, 3), 'load_cap': (h,), 'curve': (h, 11),
            'cores': (h,), 'loop': (h,), 'target': (h,), 'demand': (n, 3),
            'load': (n,), 'current': (n,), 'movable': (n,), 'cost': (n,)}
        for field, shape in shapes.items():
            value = np.asarray(getattr(self, field))
            if value.shape != shape:
                raise exception.InvalidProblem(
                    reason='%s has shape %s, expected %s'
                    % (field, value.shape, shape))
        for field in ('capacity', 'load_cap', 'curve', 'cores', 'target',
                      'demand', 'load', 'cost'):
            value = np.asarray(getattr(self, field), dtype=float)
            bad = ~np.isfinite(value) | (value < 0)
            if bad.any():
                index = np.argwhere(bad)[0]
                raise exception.InvalidProblem(
                    reason='%s[%s] is %r, expected a finite number >= 0'
                    % (field, ','.join(map(str, index)),
                       float(value[tuple(index)])))
        bad = np.flatnonzero(np.any(np.diff(self.curve, axis=1) < -1e-9,
                                    axis=1))
        if len(bad):
            raise exception.InvalidProblem(
                reason='curve of host %s decreases; power curves must be '
                       'monotone non-decreasing' % self.host_names[bad[0]])
        if n and (self.current.min() < 0 or self.current.max() >= h):
            raise exception.InvalidProblem(
                reason='current refers to a host index outside 0..%d'
                % (h - 1))


def fixed_usage(problem):
    """Usage ``(used (H,3), load (H,))`` of the immovable instances."""
    keep = ~problem.movable
    used = np.zeros((problem.n_hosts, 3))
    np.add.at(used, problem.current[keep], problem.demand[keep])
    load = np.bincount(problem.current[keep], weights=problem.load[keep],
                       minlength=problem.n_hosts)
    return used, load


def effective_capacity(problem):
    """Capacity that keeps the current placement feasible.

    A host that is over its capacity today (overcommitted before heatwatcher
    ran, or reserved values raised since) keeps the room it already uses but
    gets no more: ``max(capacity, current use)`` per resource.

    :returns: ``(capacity (H, 3), load_cap (H,))``
    """
    used, load, _ = problem.host_usage(problem.current)
    return (np.maximum(problem.capacity, used),
            np.maximum(problem.load_cap, load))
