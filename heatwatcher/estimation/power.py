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
"""Host power models: how much heat a host gives off at a given load.

A host's heat rate is its electrical power, given by an 11-point curve
(W at 0, 10, ..., 100 % CPU, monotone non-decreasing). Each host's curve
comes from the first source that has one, in this order (the fallback
chain):

1. ``fitted``: fitted from the host's own ``host_power`` and
   ``host_cpu_usage`` history (:mod:`heatwatcher.estimation.fit`);
2. ``profile``: ``host_power_profiles`` (idle/max, or an 11-point curve);
3. ``hardware``: the mean fitted curve of hosts with the same hardware
   (same vCPUs and memory);
4. ``default``: ``default_idle_power`` / ``default_max_power``.
"""

import dataclasses

import numpy as np

from heatwatcher.estimation import fit

SOURCE_FITTED = 'fitted'
SOURCE_PROFILE = 'profile'
SOURCE_HARDWARE = 'hardware'
SOURCE_DEFAULT = 'default'


@dataclasses.dataclass
class PowerModels:
    """Power curves of ``H`` hosts.

    :ivar curves: ``(H, 11)`` W at 0, 10, ..., 100 % CPU.
    :ivar cores: ``(H,)`` physical cores (100 % CPU = all busy).
    :ivar source: ``H`` strings, where each curve came from.
    :ivar stats: ``H`` dicts with ``samples``, ``r2``, ``mape`` of the fit
        (None values when not fitted) and ``reason`` for the fallback.
    """

    curves: np.ndarray
    cores: np.ndarray
    source: list
    stats: list = None

    @property
    def idle(self):
        return self.curves[:, 0]

    @property
    def peak(self):
        return self.curves[:, -1]

    def heat_rate(self, load):
        """``(H,)`` heat rate (W) at ``load`` ``(H,)`` cores in use."""
        util = np.clip(load / np.maximum(self.cores, 1.0), 0.0, 1.0)
        return np.array([np.interp(host_util, fit.GRID, curve)
                         for host_util, curve in zip(util, self.curves)])

    def instance_heat(self, loads, host_load, h):
        """Heat (W) of the instances on host ``h``, by CPU-time share.

        The host's dynamic power at ``host_load`` cores (its power minus
        idle power) is shared in proportion to each instance's cores in use,
        as Kepler attributes it; idle power stays with the host, so the
        shares sum to the dynamic power.

        :param loads: ``(n,)`` cores used by the host's instances.
        """
        loads = np.asarray(loads, dtype=float)
        total = max(float(host_load), 1e-12)
        util = min(total / max(self.cores[h], 1.0), 1.0)
        dynamic = np.interp(util, fit.GRID, self.curves[h]) - self.idle[h]
        return dynamic * loads / total

    def watts_at_load(self, h):
        """Predicted power of host ``h`` at 0, 10, ..., 100 % CPU (W)."""
        return [float(w) for w in self.curves[h]]

    def fit_stats(self, h):
        return (self.stats or [{}] * len(self.source))[h]


def _profile_curve(value):
    value = np.asarray(value, dtype=float)
    if value.shape == (2,):
        return fit.linear_curve(value[0], value[1])
    return value


def estimate(hosts, profiles, default_idle, default_peak, matcher,
             fits=None):
    """Power models of ``hosts`` through the fallback chain.

    :param hosts: records with ``name``, ``vcpus``, ``memory_mb``.
    :param profiles: ``{hostname or pattern: (idle, max) or 11 watts}``.
    :param matcher: ``matcher(profiles, hostname)`` -> key or None.
    :param fits: ``{hostname: fit.Fit}`` (hosts absent were not fitted).
    :returns: :class:`PowerModels`
    """
    fits = fits or {}
    n_hosts = len(hosts)
    curves = np.zeros((n_hosts, 11))
    source, stats = [None] * n_hosts, [None] * n_hosts
    fitted_by_hardware = {}
    for row, host in enumerate(hosts):
        host_fit = fits.get(host.name)
        if host_fit is not None and host_fit.curve is not None:
            curves[row], source[row] = host_fit.curve, SOURCE_FITTED
            stats[row] = {'samples': host_fit.samples,
                          'r2': round(host_fit.r2, 4),
                          'mape': round(host_fit.mape, 3), 'reason': None}
            fitted_by_hardware.setdefault(
                (host.vcpus, host.memory_mb), []).append(host_fit.curve)
    for row, host in enumerate(hosts):
        if source[row]:
            continue
        host_fit = fits.get(host.name)
        reason = (host_fit.reason if host_fit is not None
                  else 'no host_power history')
        stats[row] = {'samples': (host_fit.samples if host_fit is not None
                                  else 0),
                      'r2': None, 'mape': None, 'reason': reason}
        key = matcher(profiles, host.name)
        same_hardware = fitted_by_hardware.get((host.vcpus, host.memory_mb))
        if key is not None:
            curves[row], source[row] = _profile_curve(profiles[key]), \
                SOURCE_PROFILE
        elif same_hardware:
            curves[row] = np.maximum.accumulate(
                np.mean(same_hardware, axis=0))
            source[row] = SOURCE_HARDWARE
        else:
            curves[row] = fit.linear_curve(default_idle, default_peak)
            source[row] = SOURCE_DEFAULT
    cores = np.array([host.vcpus for host in hosts], dtype=float)
    return PowerModels(curves, cores, source, stats)


def configured_models(hostnames, cores, profiles, default_idle,
                      default_peak, matcher):
    """Models from ``host_power_profiles`` and the defaults only."""
    import types
    hosts = [types.SimpleNamespace(name=name, vcpus=host_cores, memory_mb=0)
             for name, host_cores in zip(hostnames, cores)]
    models = estimate(hosts, profiles, default_idle, default_peak, matcher)
    models.cores = np.asarray(cores, dtype=float)
    return models
