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
"""The four heat estimation sources (audit parameter ``heat_source``).

=============  ==================================  =========================
source         measured instance load              host power curve
=============  ==================================  =========================
history        mean over ``period``                configured (profile or
                                                   idle/max default)
realtime       latest sample (one granularity)     fitted chain
model          mean over ``period``                fitted chain (default)
simulation     mean over ``period``                fitted chain, plus a
                                                   fitted RC thermal model
                                                   simulated over horizon
=============  ==================================  =========================

The measured load is what ``mode=reactive`` plans on; in proactive mode
(:mod:`heatwatcher.forecast.modes`) instances are planned on their forecast
instead, whatever the source.

Pure: series in, models and notes out.
"""

import dataclasses

import numpy as np

from heatwatcher.estimation import fit
from heatwatcher.estimation import power
from heatwatcher.estimation import thermal
from heatwatcher import hostnames

FIT_METRICS = ('host_power', 'host_cpu_usage')
THERMAL_METRICS = ('host_outlet_temp', 'host_inlet_temp')


def metrics_for(heat_source):
    """Host metrics a source reads (besides instance_cpu_usage)."""
    if heat_source == 'history':
        return ()
    if heat_source == 'simulation':
        return FIT_METRICS + THERMAL_METRICS
    return FIT_METRICS


def load_period(settings):
    """Seconds over which instance CPU use is averaged."""
    return (settings.granularity if settings.heat_source == 'realtime'
            else settings.period)


@dataclasses.dataclass(frozen=True)
class PowerModelSettings:
    """The settings the power-model chain reads, shared by both strategies.

    :ivar heat_source: ``history`` uses the configured curves only; the
        other sources fit each host's curve from its telemetry first.
    :ivar host_power_profiles: ``{hostname or pattern: (idle, max) or 11
        watts}``, parsed.
    :ivar default_idle_power, default_max_power: W of the default model.
    :ivar granularity: s between the samples paired for a fit.
    :ivar min_fit_samples, min_fit_util_range: when a fit is used.
    """

    host_power_profiles: dict
    default_idle_power: float
    default_max_power: float
    heat_source: str = 'history'
    granularity: int = 300
    min_fit_samples: int = 100
    min_fit_util_range: float = 0.15


def power_models(power_settings, hosts, series):
    """Power models through the fallback chain, with a note per fallback.

    :param power_settings: :class:`PowerModelSettings`.
    :param hosts: records with ``name``, ``vcpus``, ``memory_mb``.
    :param series: ``{metric: {hostname: {timestamp: value}}}`` of
        :data:`FIT_METRICS` (may be empty).
    :returns: ``(PowerModels, notes)``
    """
    fits = {}
    fitted = power_settings.heat_source != 'history'
    if fitted:
        fits = fit.fit_hosts(series.get('host_power', {}),
                             series.get('host_cpu_usage', {}),
                             power_settings.granularity,
                             power_settings.min_fit_samples,
                             power_settings.min_fit_util_range)
    models = power.estimate(hosts, power_settings.host_power_profiles,
                            power_settings.default_idle_power,
                            power_settings.default_max_power,
                            hostnames.match, fits)
    notes = []
    if fitted:
        for index, host in enumerate(hosts):
            if models.source[index] != power.SOURCE_FITTED:
                notes.append('host %s: power model from %s (%s)'
                             % (host.name, models.source[index],
                                models.stats[index]['reason']))
    return models, notes


def thermal_models(settings, names, series, end):
    """Fit each host's RC model.

    :returns: ``({name: (Thermal, T_out now, T_in now)}, notes)`` for the
        hosts that have one.
    """
    step = settings.granularity
    n = int(settings.fit_window // step)
    start = end.timestamp() - n * step
    out, notes = {}, []
    for name in names:
        grids = [fit.to_grid(series.get(m, {}).get(name), start, step, n)
                 for m in ('host_outlet_temp', 'host_inlet_temp',
                           'host_power')]
        model = thermal.fit_rc(*grids, step)
        if model.r is None:
            notes.append('host %s: no thermal model (%s)'
                         % (name, model.reason))
            continue
        outlet, inlet = grids[0], grids[1]
        t0 = outlet[np.isfinite(outlet)][-1]
        tin = inlet[np.isfinite(inlet)][-1]
        out[name] = (model, float(t0), float(tin))
    return out, notes


def time_above_targets(settings, names, models, thermals, targets):
    """Watt targets equivalent to ``target_time_above`` per host.

    A host with a thermal model gets the power at which its outlet stays
    above ``min_useful_temperature`` for the target fraction of the horizon
    (above its maximum if no load achieves it); one without keeps its watt
    target, with a note.
    """
    targets = np.array(targets, dtype=float)
    notes = []
    for h, name in enumerate(names):
        if name not in thermals:
            notes.append('host %s: heat_metric time_above_temperature '
                         'needs a thermal model; its target stays %.0f W'
                         % (name, targets[h]))
            continue
        model, t0, tin = thermals[name]
        u = thermal.util_for_time_above(
            models.curves[h], t0, tin, model, settings.horizon,
            settings.granularity, settings.min_useful_temperature,
            settings.target_time_above)
        targets[h] = (models.curves[h, -1] + 1.0 if not np.isfinite(u)
                      else float(np.interp(u, fit.GRID, models.curves[h])))
    return targets, notes


def outlook(settings, h, name, models, thermals, heat_w):
    """Simulate host ``h`` at ``heat_w`` W over the horizon.

    :returns: ``{kwh, time_above, r, tau}`` or None without a thermal model.
    """
    if name not in thermals:
        return None
    model, t0, tin = thermals[name]
    m = max(int(settings.horizon // settings.granularity), 1)
    kwh, frac = thermal.outlook(t0, tin, np.full(m, heat_w), model,
                                settings.granularity,
                                settings.min_useful_temperature)
    return {'kwh': round(kwh, 4), 'time_above': round(frac, 4),
            'r': round(model.r, 6), 'tau': round(model.tau, 1)}
