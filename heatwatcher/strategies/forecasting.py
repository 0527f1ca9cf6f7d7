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
"""The forecast step of heat_consolidation: the load each instance is
planned on (orchestration).

Reads the ``instance_cpu_usage`` history through
:mod:`heatwatcher.telemetry.collect`, fits or reuses the forecaster
(:mod:`heatwatcher.forecast.predictor`, saved by
:mod:`heatwatcher.state.forecast_store` under the
:class:`~heatwatcher.state.forecast_store.Policy` it is given), chooses the
mode (:mod:`heatwatcher.forecast.modes`) and returns a :class:`Forecast`:
the planned load beside the measured one, never in place of it.
"""

import dataclasses
import time

import numpy as np
from oslo_log import log

from heatwatcher.forecast import history
from heatwatcher.forecast import models
from heatwatcher.forecast import modes
from heatwatcher.forecast import predictor
from heatwatcher.state import forecast_store
from heatwatcher.telemetry import collect

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class Forecast:
    """What the forecast step hands to the next steps.

    :ivar planned_load: ``(N,)`` load each instance is planned on, in %
        of its vCPUs (NaN: no data at all).
    :ivar report: the audit output's ``forecast`` section.
    :ivar hosts: ``{hostname: row}`` per-host forecast rows.
    :ivar notes: what the step noticed.
    :ivar path: ``(N, horizon slots)`` forecast path (% of own vCPUs).
    :ivar used: ``(N,)`` bool, instances planned on the forecast.
    """

    planned_load: np.ndarray
    report: dict
    hosts: dict
    notes: list
    path: np.ndarray
    used: np.ndarray


def horizon_slots(settings):
    """Slots of ``slot_minutes`` in the horizon (at least one)."""
    return max(1, int(round(settings.horizon
                            / (settings.slot_minutes * 60.0))))


def _models_key(settings):
    """The settings saved models depend on: others force a refit."""
    return {'slot_minutes': settings.slot_minutes,
            'horizon': horizon_slots(settings),
            'weekend_days': list(settings.weekend_days),
            'holidays': sorted(settings.holidays),
            'forecast_window': settings.forecast_window,
            'accuracy_window': settings.accuracy_window}


def _fitted(*, settings, load_history, seasonal_state, placement, store,
            state_name, notes):
    """Saved models if they serve, else fit (and save when configured).

    :param seasonal_state: ``models.seasonal`` of the history.
    :param placement: ``{hosts, vcpus, cores, names}`` for the host errors.
    :param store: :class:`~heatwatcher.state.forecast_store.Policy`.
    :returns: ``(Fitted, {'source', 'detail'})``
    """
    now = time.time()
    why = None
    if store.state_path:
        record, note = forecast_store.load(store.state_path, state_name)
        if note:
            notes.append(note)
        fitted, why = predictor.reuse(record, _models_key(settings), now,
                                      store.retrain_interval,
                                      store.predict_only)
        if fitted is not None:
            return fitted, {'source': 'saved', 'detail': why}
    fitted = predictor.fit(load_history.y, load_history.cats,
                           load_history.now, horizon_slots(settings),
                           test_days=settings.accuracy_window // 86400,
                           state=seasonal_state, **placement)
    state = {'source': 'fitted', 'detail': why or 'no state_path'}
    if store.state_path and fitted.chosen is not None:
        note = forecast_store.save(store.state_path, state_name, {
            'key': _models_key(settings), 'fitted_at': now,
            'fitted': fitted.to_dict()})
        if note:
            notes.append(note)
    return fitted, state


def _notes(decision, settings, without):
    notes = ['forecast: mode %s (%s requested): %s'
             % (decision.mode, decision.requested, decision.reason)]
    if decision.failsafe:
        notes.append('forecast: failsafe, planned on measured load: %s '
                     '(outside [%g, %g] %%)'
                     % (', '.join('%s at %.1f %%' % item for item in
                                  sorted(decision.failsafe.items())),
                        settings.failsafe_low, settings.failsafe_high))
    if without:
        notes.append('forecast: %d instance(s) without enough history are '
                     'planned on measured load' % without)
    return notes


def forecast_loads(*, datasource, compute_model, settings, snapshot,
                   measured_load, store, state_name, cache=None):
    """Apply ``settings.mode`` to the audit's instances.

    :param snapshot: the telemetry snapshot (hosts and instances).
    :param measured_load: ``(N,)`` measured load, % of own vCPUs (NaN:
        missing).
    :param store: :class:`~heatwatcher.state.forecast_store.Policy`.
    :param state_name: name of the saved-models file (the audit's uuid).
    :param cache: None, or the
        :class:`~heatwatcher.telemetry.history_cache.SeriesCache` the
        history is read through.
    :returns: :class:`Forecast`
    """
    names = [host.name for host in snapshot.hosts]
    index = {name: position for position, name in enumerate(names)}
    instances = snapshot.instances
    host_of = np.array([index[inst.host] for inst in instances], dtype=int)
    vcpus = np.array([inst.vcpus for inst in instances], dtype=float)
    cores = np.array([max(host.vcpus - host.vcpu_reserved, 0)
                      for host in snapshot.hosts], dtype=float)
    notes = []
    slots = horizon_slots(settings)
    if settings.mode == 'reactive' or not instances:
        fitted = predictor.Fitted(reason='not needed in mode reactive'
                                  if settings.mode == 'reactive' else
                                  'no instance')
        path = np.full((len(instances), slots), np.nan)
        mean, state = path[:, 0], {'source': 'none', 'detail': ''}
    else:
        uuids = [inst.uuid for inst in instances]
        series, end, more = collect.instance_series(
            datasource, compute_model, uuids, settings.forecast_window,
            settings.granularity, slot=settings.slot_minutes * 60,
            cache=cache)
        notes += more
        load_history = history.matrix(
            series, uuids, end, window=settings.forecast_window,
            step=settings.granularity, slot_minutes=settings.slot_minutes,
            horizon=slots, weekend=set(settings.weekend_days),
            holidays=settings.holidays)
        del series  # the matrix holds what the fit needs: free the samples
        seasonal_state = models.seasonal(load_history.y, load_history.cats)
        fitted, state = _fitted(
            settings=settings, load_history=load_history,
            seasonal_state=seasonal_state,
            placement={'hosts': host_of, 'vcpus': vcpus, 'cores': cores,
                       'names': names},
            store=store, state_name=state_name, notes=notes)
        path, mean = predictor.forecast(load_history.y, load_history.cats,
                                        load_history.now, slots, fitted,
                                        state=seasonal_state)
        del seasonal_state
        state['history_days'] = round(
            predictor.history_days(load_history.y, load_history.now), 2)
    decision = modes.decide(settings.mode, fitted,
                            settings.autostart_accuracy)
    measured_host = modes.host_load(measured_load, vcpus, host_of, cores)
    reactive_host = modes.failsafe(decision, names, measured_host,
                                   settings.failsafe_low,
                                   settings.failsafe_high)
    planned, used = modes.planning_percent(
        decision, measured_load, path, host_of, reactive_host,
        settings.min_benefit_duration)
    forecast_host = modes.host_load(
        np.where(np.isfinite(mean), mean, measured_load), vcpus, host_of,
        cores)
    planned_host = modes.host_load(planned, vcpus, host_of, cores)
    rows = {}
    for position, name in enumerate(names):
        rows[name] = {
            'mode': ('reactive (failsafe)' if decision.mode == 'proactive'
                     and reactive_host[position] else decision.mode),
            'measured_load': round(float(measured_host[position]), 2),
            'forecast_load': round(float(forecast_host[position]), 2),
            'planned_load': round(float(planned_host[position]), 2),
            'backtest_mae': fitted.host_errors.get(name)}
    without = (int(np.sum(~used & ~reactive_host[host_of]))
               if decision.mode == 'proactive' else 0)
    report = {'requested': decision.requested, 'mode': decision.mode,
              'reason': decision.reason, 'error': decision.error,
              'autostart_accuracy': decision.threshold,
              'model': fitted.chosen, 'model_errors': fitted.errors,
              'points': fitted.points, 'failsafe_hosts': decision.failsafe,
              'instances_on_forecast': int(used.sum()),
              'instances_without_forecast': without,
              'horizon_slots': slots, 'state': state}
    notes += _notes(decision, settings, without)
    for note in notes:
        LOG.info('heat_consolidation: %s', note)
    return Forecast(np.asarray(planned, dtype=float), report, rows, notes,
                    path, used)
