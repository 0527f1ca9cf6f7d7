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
"""Reactive, proactive and auto modes, failsafe and migration damping.

Pure: forecasts, measured loads and settings values in; the load each
instance is planned on, and what decided it, out.

* ``reactive``: every instance is planned on its measured load.
* ``proactive``: instances are planned on their damped forecast.
* ``auto``: proactive while the backtest error of the chosen model (MAE of
  host load, % of host capacity, over the accuracy window) is below
  ``autostart_accuracy``; reactive otherwise or without a backtest.

Failsafe: a host whose measured load (% of its vCPUs) is outside
``[failsafe_low, failsafe_high]`` is reactive, whatever the mode.

Instance-level damping: the forecast path over the horizon is ``h``
slots; an instance is planned on the highest load it keeps for at least
``min_benefit_duration`` of the horizon: the
``ceil(min_benefit_duration * h)``-th largest slot of its path. The
plan-level damping that follows the solve is
:mod:`heatwatcher.optimize.damping`.
"""

import dataclasses
import math

import numpy as np


MODES = ('auto', 'reactive', 'proactive')


@dataclasses.dataclass
class Decision:
    """The audit's planning mode and what decided it.

    :ivar mode: ``reactive`` or ``proactive`` (of the audit).
    :ivar reason: why, with the error and threshold.
    :ivar failsafe: ``{hostname: measured load %}`` of hosts kept reactive.
    """

    requested: str
    mode: str
    reason: str
    error: float = None
    threshold: float = None
    failsafe: dict = dataclasses.field(default_factory=dict)


def decide(requested, fitted, threshold):
    """Choose the audit's mode from the request and the backtest.

    :param fitted: :class:`~heatwatcher.forecast.predictor.Fitted`.
    :param threshold: ``autostart_accuracy`` (% of host capacity).
    """
    err = fitted.error
    if requested == 'reactive':
        return Decision(requested, 'reactive', 'mode reactive requested',
                        err, threshold)
    if fitted.chosen is None:
        return Decision(requested, 'reactive', 'no forecast: %s'
                        % fitted.reason, None, threshold)
    if requested == 'proactive':
        return Decision(requested, 'proactive', 'mode proactive requested '
                        '(model %s)' % fitted.chosen, err, threshold)
    if err is None:
        return Decision(requested, 'reactive', 'no backtest error for any '
                        'host', None, threshold)
    if err < threshold:
        return Decision(requested, 'proactive',
                        'backtest MAE %.2f %% of host capacity (model %s) '
                        'is below autostart_accuracy %.2f %%'
                        % (err, fitted.chosen, threshold), err, threshold)
    return Decision(requested, 'reactive',
                    'backtest MAE %.2f %% of host capacity (model %s) is '
                    'not below autostart_accuracy %.2f %%'
                    % (err, fitted.chosen, threshold), err, threshold)


def host_load(percent, vcpus, hosts, cores):
    """``(H,)`` load in % of host vCPUs from instance ``percent`` ``(N,)``.

    NaN instance values count as 0.
    """
    used = np.nan_to_num(np.asarray(percent, float)) / 100.0 * vcpus
    total = np.bincount(hosts, weights=used, minlength=len(cores))
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(cores > 0, 100.0 * total / cores, 0.0)


def failsafe(decision, names, measured_host, low, high):
    """Record hosts outside ``[low, high]`` %; returns ``(H,)`` bool."""
    out = (measured_host < low) | (measured_host > high)
    decision.failsafe = {names[h]: round(float(measured_host[h]), 2)
                         for h in np.flatnonzero(out)}
    return out


def damped(path, min_benefit_duration):
    """``(N,)`` highest load held for ``min_benefit_duration`` of the path.

    :param path: ``(N, h)`` forecast per slot; NaN slots are ignored (an
        instance with no finite slot gives NaN).
    """
    path = np.asarray(path, float)
    h = path.shape[1]
    m = min(max(int(math.ceil(min_benefit_duration * h - 1e-9)), 1), h)
    ranked = -np.sort(-np.where(np.isfinite(path), path, -np.inf), axis=1)
    finite = np.isfinite(path).sum(axis=1)
    pick = np.minimum(m, np.maximum(finite, 1)) - 1
    out = ranked[np.arange(len(path)), pick]
    return np.where(finite > 0, out, np.nan)


def planning_percent(decision, measured, path, hosts, host_reactive,
                     min_benefit_duration):
    """Load (% of own vCPUs) each instance is planned on.

    :param measured: ``(N,)`` measured mean load (NaN = missing).
    :param path: ``(N, h)`` forecast path.
    :param hosts: ``(N,)`` host index; :param host_reactive: ``(H,)`` bool.
    :returns: ``(percent (N,), forecast used (N,) bool)``
    """
    measured = np.asarray(measured, float)
    if decision.mode != 'proactive' or len(measured) == 0:
        return measured, np.zeros(len(measured), dtype=bool)
    plan = damped(path, min_benefit_duration)
    use = np.isfinite(plan) & ~np.asarray(host_reactive)[hosts]
    return np.where(use, plan, measured), use
