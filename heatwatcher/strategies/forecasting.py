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
"""Forecast-driven planning loads for heat_consolidation (orchestration).

Reads the ``instance_cpu_usage`` history through
:mod:`heatwatcher.telemetry.collect`, fits or reuses the forecaster
(:mod:`heatwatcher.forecast.predictor`, saved by
:mod:`heatwatcher.state.forecast_store` when ``[heatwatcher] state_path``
is set), chooses the mode (:mod:`heatwatcher.forecast.modes`) and returns
the snapshot with each instance's planning load in ``cpu_percent``.
"""

import dataclasses
import time

import numpy as np
from oslo_config import cfg
from oslo_log import log

from heatwatcher.conf import heatwatcher as hw_conf
from heatwatcher.forecast import history
from heatwatcher.forecast import modes
from heatwatcher.forecast import predictor
from heatwatcher.state import forecast_store
from heatwatcher.telemetry import collect

LOG = log.getLogger(__name__)
CONF = cfg.CONF
hw_conf.register_opts(CONF)


@dataclasses.dataclass
class Outcome:
    """What the forecast step hands to the strategy.

    :ivar snapshot: the snapshot to plan on; :ivar report: the audit
        output's ``forecast`` section; :ivar hosts: ``{hostname: row}``.
    """

    snapshot: object
    report: dict
    hosts: dict
    notes: list
    path: object = None
    used: object = None

    def lasting(self, problem, assign, min_benefit_duration):
        """Plan-level damping (:func:`modes.lasting`); returns a note."""
        keep, share = modes.lasting(problem, assign, self.path, self.used,
                                    min_benefit_duration)
        self.report['lasting_share'] = share
        if keep:
            return None
        return ('forecast: the plan beats the current placement in only '
                '%.0f %% of the horizon (min_benefit_duration %.0f %%); no '
                'migration is planned' % (100 * share,
                                          100 * min_benefit_duration))


def _horizon_slots(s):
    return max(1, int(round(s.horizon / (s.slot_minutes * 60.0))))


def _key(s):
    return {'slot_minutes': s.slot_minutes, 'horizon': _horizon_slots(s),
            'weekend_days': list(s.weekend_days),
            'holidays': sorted(s.holidays),
            'forecast_window': s.forecast_window,
            'accuracy_window': s.accuracy_window}


def _fitted(s, h, hist, place, state_name, notes):
    """Saved models if they serve, else fit (and save when configured)."""
    conf = CONF.heatwatcher
    now = time.time()
    record, why = None, None
    if conf.state_path:
        record, note = forecast_store.load(conf.state_path, state_name)
        if note:
            notes.append(note)
        fitted, why = predictor.reuse(record, _key(s), now,
                                      conf.retrain_interval,
                                      conf.predict_only)
        if fitted is not None:
            return fitted, {'source': 'saved', 'detail': why}
    fitted = predictor.fit(hist.y, hist.cats, hist.now, h,
                           s.accuracy_window // 86400, *place)
    state = {'source': 'fitted', 'detail': why or 'no state_path'}
    if conf.state_path and fitted.chosen is not None:
        note = forecast_store.save(conf.state_path, state_name, {
            'key': _key(s), 'fitted_at': now, 'fitted': fitted.to_dict()})
        if note:
            notes.append(note)
    return fitted, state


def plan_loads(datasource, compute_model, s, snap, state_name):
    """Apply ``s.mode`` to ``snap``; returns an :class:`Outcome`."""
    names = [h.name for h in snap.hosts]
    index = {n: k for k, n in enumerate(names)}
    insts = snap.instances
    hosts = np.array([index[i.host] for i in insts], dtype=int)
    vcpus = np.array([i.vcpus for i in insts], dtype=float)
    cores = np.array([max(h.vcpus - h.vcpu_reserved, 0) for h in snap.hosts],
                     dtype=float)
    measured = np.array([np.nan if i.cpu_percent is None else i.cpu_percent
                         for i in insts], dtype=float)
    notes = []
    h = _horizon_slots(s)
    if s.mode == 'reactive' or not insts:
        fitted = predictor.Fitted(reason='not needed in mode reactive'
                                  if s.mode == 'reactive' else
                                  'no instance')
        path = np.full((len(insts), h), np.nan)
        mean, state = path[:, 0], {'source': 'none', 'detail': ''}
    else:
        uuids = [i.uuid for i in insts]
        series, end, more = collect.instance_series(
            datasource, compute_model, uuids, s.forecast_window,
            s.granularity)
        notes += more
        hist = history.matrix(series, uuids, end,
                              s.forecast_window, s.granularity,
                              s.slot_minutes, h, set(s.weekend_days),
                              s.holidays)
        fitted, state = _fitted(s, h, hist, (hosts, vcpus, cores, names),
                                state_name, notes)
        path, mean = predictor.forecast(hist.y, hist.cats, hist.now, h,
                                        fitted)
        state['history_days'] = round(
            predictor.history_days(hist.y, hist.now), 2)
    decision = modes.decide(s.mode, fitted, s.autostart_accuracy)
    measured_host = modes.host_load(measured, vcpus, hosts, cores)
    reactive_host = modes.failsafe(decision, names, measured_host,
                                   s.failsafe_low, s.failsafe_high)
    planned, used = modes.planning_percent(decision, measured, path, hosts,
                                           reactive_host,
                                           s.min_benefit_duration)
    forecast_host = modes.host_load(np.where(np.isfinite(mean), mean,
                                             measured), vcpus, hosts, cores)
    planned_host = modes.host_load(planned, vcpus, hosts, cores)
    rows = {}
    for k, name in enumerate(names):
        rows[name] = {
            'mode': ('reactive (failsafe)' if decision.mode == 'proactive'
                     and reactive_host[k] else decision.mode),
            'measured_load': round(float(measured_host[k]), 2),
            'forecast_load': round(float(forecast_host[k]), 2),
            'planned_load': round(float(planned_host[k]), 2),
            'backtest_mae': fitted.host_errors.get(name)}
    without = int(np.sum(~used & ~reactive_host[hosts])) if \
        decision.mode == 'proactive' else 0
    report = {'requested': decision.requested, 'mode': decision.mode,
              'reason': decision.reason, 'error': decision.error,
              'autostart_accuracy': decision.threshold,
              'model': fitted.chosen, 'model_errors': fitted.errors,
              'points': fitted.points, 'failsafe_hosts': decision.failsafe,
              'instances_on_forecast': int(used.sum()),
              'instances_without_forecast': without,
              'horizon_slots': h, 'state': state}
    notes.append('forecast: mode %s (%s requested): %s'
                 % (decision.mode, decision.requested, decision.reason))
    if decision.failsafe:
        notes.append('forecast: failsafe, planned on measured load: %s '
                     '(outside [%g, %g] %%)'
                     % (', '.join('%s at %.1f %%' % kv for kv in
                                  sorted(decision.failsafe.items())),
                        s.failsafe_low, s.failsafe_high))
    if without:
        notes.append('forecast: %d instance(s) without enough history are '
                     'planned on measured load' % without)
    for note in notes:
        LOG.info('heat_consolidation: %s', note)
    new = [dataclasses.replace(i, cpu_percent=None if np.isnan(p)
                               else float(p))
           for i, p in zip(insts, planned)]
    return Outcome(dataclasses.replace(snap, instances=new), report, rows,
                   notes, path, used)
