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
"""Rank hosts for shedding: lowest cost minus benefit first.

Every factor is normalised to [0, 1] across the candidate hosts (min-max;
a factor equal on all hosts counts 0) and weighted by the policy.

Cost factors (shedding this host hurts more):
``instances`` (count), ``uptime`` (mean age of its instances, s), ``size``
(vCPUs of its instances), ``cpu`` (cores in use / host cores),
``priority`` (highest ``heatwatcher_priority`` metadata of its instances),
``project`` (highest ``project_priorities`` rank of their projects),
``redundancy`` (instances whose server-group peers are all on this host).

Benefit factors (shedding this host helps more):
``heat`` (its estimated heat rate, W) and ``zone_heat`` (how far its zone is
above the clear temperature).
"""

import numpy as np

COST = ('instances', 'uptime', 'size', 'cpu', 'priority', 'project',
        'redundancy')
BENEFIT = ('heat', 'zone_heat')


def normalise(values):
    """Min-max scale ``values`` to [0, 1]; all-equal values give zeros."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    lo, hi = np.min(v), np.max(v)
    return np.zeros_like(v) if hi - lo <= 1e-12 else (v - lo) / (hi - lo)


def scores(factors, weights):
    """``(n,)`` cost - benefit per host.

    :param factors: ``{factor name: (n,) raw values}`` (all of COST and
        BENEFIT).
    :param weights: ``{factor name: weight >= 0}``.
    """
    n_hosts = len(next(iter(factors.values())))
    total = np.zeros(n_hosts)
    for name in COST:
        total += weights.get(name, 0.0) * normalise(factors[name])
    for name in BENEFIT:
        total -= weights.get(name, 0.0) * normalise(factors[name])
    return total


def order(names, factors, weights):
    """Host names in shedding order (ties broken by name)."""
    host_scores = scores(factors, weights)
    return [names[k] for k in np.lexsort((np.array(names), host_scores))]
