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
"""Thermal events per zone, with hysteresis and no hidden state.

Thresholds ``T3 <= T2 < T1`` (``power_up``, ``clear``, ``trigger``). A zone's
action depends on its temperature and on whether it still has hosts shed by
this strategy (recognised by their disabled reason), which is the only state
the continuous audit needs:

==========================  ===================  =========================
zone temperature            hosts already shed   action
==========================  ===================  =========================
``>= T1``                   any                  ``shed``
``T2 <= t < T1``            yes                  ``hold`` (event ongoing)
``T2 <= t < T1``            no                   ``none``
``T3 <= t < T2``            any                  ``none`` (event over)
``< T3``                    yes                  ``power_up``
``< T3``                    no                   ``none``
==========================  ===================  =========================
"""

import numpy as np

SHED, HOLD, NONE, POWER_UP = 'shed', 'hold', 'none', 'power_up'


def zone_temperature(temps, aggregate):
    """Zone temperature from its hosts' ``temps`` (None/NaN ignored).

    :returns: float degC, or None when no host has a reading.
    """
    values = [t for t in temps if t is not None and np.isfinite(t)]
    if not values:
        return None
    return float(max(values) if aggregate == 'max' else np.mean(values))


def zone_action(temperature, has_shed, t1, t2, t3):
    """The action for one zone (see the module table)."""
    if temperature is None:
        return NONE
    if temperature >= t1:
        return SHED
    if temperature >= t2:
        return HOLD if has_shed else NONE
    if temperature < t3 and has_shed:
        return POWER_UP
    return NONE


def requirement(temperature, t2, watts_per_degree, zone_heat=None,
                budget=None):
    """Heat (W) the zone must shed.

    With a ``budget`` (W the degraded cooling can remove) it is the zone's
    heat above that budget; otherwise the excess temperature over T2 times
    ``watts_per_degree``.
    """
    if budget is not None and zone_heat is not None:
        return max(0.0, float(zone_heat) - float(budget))
    return max(0.0, (float(temperature) - float(t2)) * watts_per_degree)


def power_up_count(temperature, t3, watts_per_degree, heats, limit):
    """How many shed hosts (in ``heats`` order, W each) can come back.

    A host is brought back while the projected zone temperature, rising by
    its heat / ``watts_per_degree``, stays below T3; at most ``limit``.
    """
    count, projected = 0, float(temperature)
    for heat in heats:
        if count >= limit:
            break
        projected_next = projected + heat / watts_per_degree
        if projected_next >= t3:
            break
        projected, count = projected_next, count + 1
    return count
