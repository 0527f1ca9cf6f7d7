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

A host's heat rate is its electrical power. The estimator interface is
:class:`PowerModels`: per host an idle power and a dynamic slope in W per
core in use, plus the source of the figures, so that fitted or non-linear
models can replace the configured linear one without touching the
optimiser.
"""

import dataclasses

import numpy as np

SOURCE_PROFILE = 'profile'
SOURCE_DEFAULT = 'default'


@dataclasses.dataclass
class PowerModels:
    """Linear power models of ``H`` hosts.

    :ivar idle: ``(H,)`` power at 0 % CPU (W).
    :ivar peak: ``(H,)`` power at 100 % CPU (W).
    :ivar cores: ``(H,)`` physical cores (100 % CPU = all busy).
    :ivar source: ``H`` strings, where each model came from.
    """

    idle: np.ndarray
    peak: np.ndarray
    cores: np.ndarray
    source: list

    @property
    def slope(self):
        """``(H,)`` dynamic power per core in use (W/core)."""
        return (self.peak - self.idle) / np.maximum(self.cores, 1.0)

    def heat_rate(self, load):
        """``(H,)`` heat rate (W) at ``load`` ``(H,)`` cores in use."""
        util = np.clip(load / np.maximum(self.cores, 1.0), 0.0, 1.0)
        return self.idle + (self.peak - self.idle) * util

    def instance_heat(self, load, host):
        """Heat (W) of instances using ``load`` cores on hosts ``host``.

        An instance's share is the host's dynamic power times its share of
        the host's cores: ``(peak - idle) x load / cores``. Idle power stays
        with the host.
        """
        return self.slope[host] * load

    def watts_at_load(self, h):
        """Predicted power of host ``h`` at 0, 10, ..., 100 % CPU (W)."""
        return [float(self.idle[h] + (self.peak[h] - self.idle[h]) * u)
                for u in np.linspace(0.0, 1.0, 11)]


def configured_models(hostnames, cores, profiles, default_idle,
                      default_peak, matcher):
    """Linear models from ``host_power_profiles`` and the defaults.

    :param hostnames: ``H`` hostnames.
    :param cores: ``(H,)`` physical cores.
    :param profiles: ``{hostname or pattern: (idle W, max W)}``.
    :param matcher: ``matcher(profiles, hostname)`` -> key or None.
    :returns: :class:`PowerModels`
    """
    idle = np.full(len(hostnames), float(default_idle))
    peak = np.full(len(hostnames), float(default_peak))
    source = [SOURCE_DEFAULT] * len(hostnames)
    for h, name in enumerate(hostnames):
        key = matcher(profiles, name)
        if key is not None:
            idle[h], peak[h] = profiles[key]
            source[h] = SOURCE_PROFILE
    return PowerModels(idle, peak, np.asarray(cores, dtype=float), source)
