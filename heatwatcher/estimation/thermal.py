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
"""First-order thermal (RC) model of a host, fitted and simulated.

The outlet temperature relaxes towards the inlet temperature plus the
host's power times its thermal resistance::

    dT_out/dt = (T_in + R * P - T_out) / tau

with ``R`` in degC/W and ``tau`` in seconds; at steady state
``T_out = T_in + R * P``. Discretised on the telemetry step ``dt``::

    T_out[k+1] - T_out[k] = a * (T_in[k] - T_out[k]) + b * P[k],
    a = dt / tau,  b = a * R

so ``a`` and ``b`` come from linear least squares on the history.
"""

import dataclasses

import numpy as np

from heatwatcher.estimation import fit as power_curves


@dataclasses.dataclass
class Thermal:
    """A fitted RC model.

    :ivar r: thermal resistance (degC/W).
    :ivar tau: time constant (s).
    :ivar samples: transitions used for the fit.
    :ivar reason: why no model was fitted (then ``r``/``tau`` are None).
    """

    r: float = None
    tau: float = None
    samples: int = 0
    reason: str = None


def fit_rc(outlet, inlet, power, step, min_samples=50):
    """Fit ``R`` and ``tau`` by linear least squares.

    :param outlet: ``(n,)`` outlet temperature (degC), NaN where missing.
    :param inlet: ``(n,)`` inlet temperature (degC).
    :param power: ``(n,)`` power (W); all sampled every ``step`` s.
    """
    outlet, inlet, power = (np.asarray(x, dtype=float)
                            for x in (outlet, inlet, power))
    usable = (np.isfinite(outlet[:-1]) & np.isfinite(outlet[1:])
              & np.isfinite(inlet[:-1]) & np.isfinite(power[:-1]))
    n_usable = int(usable.sum())
    if n_usable < min_samples:
        return Thermal(samples=n_usable,
                       reason='%d usable temperature transitions, '
                              'fewer than %d' % (n_usable, min_samples))
    x = np.column_stack([(inlet[:-1] - outlet[:-1])[usable],
                         power[:-1][usable]])
    y = (outlet[1:] - outlet[:-1])[usable]
    (a, b), *_ = np.linalg.lstsq(x, y, rcond=None)
    if not (0 < a <= 1) or b <= 0:
        return Thermal(samples=n_usable,
                       reason='no first-order response in the '
                              'history (a=%.3g, b=%.3g)' % (a, b))
    return Thermal(r=float(b / a), tau=float(step / a), samples=n_usable)


def simulate(t0, inlet, power, thermal, step):
    """Outlet temperatures ``(m,)`` for powers ``(m,)`` from ``t0``.

    :param inlet: inlet temperature (degC), scalar or ``(m,)``.
    """
    power = np.asarray(power, dtype=float)
    inlet = np.broadcast_to(np.asarray(inlet, dtype=float), power.shape)
    a = min(step / thermal.tau, 1.0)
    temps = np.empty(len(power))
    t_out = float(t0)
    for k in range(len(power)):
        t_out = t_out + a * (inlet[k] + thermal.r * power[k] - t_out)
        temps[k] = t_out
    return temps


def outlook(t0, inlet, power, thermal, step, threshold):
    """``(kWh over the horizon, fraction of time above threshold)``."""
    temps = simulate(t0, inlet, power, thermal, step)
    kwh = float(np.sum(power) * step / 3.6e6)
    return kwh, float(np.mean(temps >= threshold))


def util_for_time_above(curve, t0, inlet, thermal, horizon, step,
                        threshold, fraction):
    """Smallest CPU utilisation that keeps the outlet hot enough.

    At constant load, the outlet must stay above ``threshold`` for
    ``fraction`` of ``horizon``; ``inf`` if no load does.

    Time above the threshold grows with power, which grows with load, so
    bisection finds it.
    """
    n_steps = max(int(horizon // step), 1)

    def fraction_above(util):
        powers = np.full(n_steps, np.interp(util, power_curves.GRID, curve))
        return outlook(t0, inlet, powers, thermal, step, threshold)[1]

    if fraction_above(0.0) >= fraction:
        return 0.0
    if fraction_above(1.0) < fraction:
        return np.inf
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if fraction_above(mid) >= fraction:
            hi = mid
        else:
            lo = mid
    return hi
