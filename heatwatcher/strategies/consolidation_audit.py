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
"""The steps of a heat_consolidation audit, over one explicit state.

Each step is a function that reads what the steps before it put in the
:class:`AuditState` and adds its own part; nothing is rewritten once
written. In order:

1. :func:`read_telemetry`: the snapshot of hosts and instances and their
   **measured** load (:mod:`heatwatcher.telemetry.collect`);
2. :func:`plan_loads`: the **planned** load, measured or forecast by mode
   (:mod:`.forecasting`), kept beside the measured one;
3. :func:`choose_loop_hosts`: loop hosts and their targets;
4. :func:`estimate_heat`: power (and thermal) models
   (:mod:`heatwatcher.estimation.sources`);
5. :func:`build_problem`: the placement problem on the planned load
   (:mod:`heatwatcher.optimize.build`);
6. :func:`optimise`: the solve (:mod:`heatwatcher.optimize.solver`) with
   the hosts near target held there (:mod:`heatwatcher.optimize.calm`),
   then plan-level damping (:mod:`heatwatcher.optimize.damping`);
7. :func:`plan_actions`: the actions that realise the placement, with the
   bare metal nodes of the hosts to power off;
8. :func:`check_sequence`: the capacity-safe order with the planner's own
   limits (:mod:`heatwatcher.planning.sequence`); a placement that cannot
   be ordered is dropped;
9. :func:`report`: efficacy indicators and the audit report.

The state's :attr:`~AuditState.status` is a
:class:`~heatwatcher.optimize.status.Status`: the solver's, then
``DAMPED`` or ``NOT_SEQUENCED`` when a later step drops its placement.
"""

import dataclasses
import time

import numpy as np
from oslo_log import log

from heatwatcher.estimation import sources
from heatwatcher.optimize import build
from heatwatcher.optimize import calm
from heatwatcher.optimize import damping
from heatwatcher.optimize import priced
from heatwatcher.optimize import solver
from heatwatcher.optimize import status as plan_status
from heatwatcher.planning import actions as watcher_actions
from heatwatcher.planning import efficacy
from heatwatcher.planning import report as host_report
from heatwatcher.planning import sequence
from heatwatcher.strategies import forecasting
from heatwatcher.strategies import heat_consolidation_settings
from heatwatcher.telemetry import collect

LOG = log.getLogger(__name__)

Status = plan_status.Status


@dataclasses.dataclass
class AuditState:
    """Everything one audit has read and decided, step by step.

    Arrays are in snapshot order: ``N`` instances, ``H`` hosts.

    :ivar settings: resolved heat_consolidation settings.
    :ivar snapshot: hosts and instances as read (never rewritten).
    :ivar measured_load: ``(N,)`` measured CPU use, % of own vCPUs (NaN:
        no data).
    :ivar forecast: :class:`~.forecasting.Forecast`, holding
        ``planned_load`` ``(N,)``, the load the plan is made on.
    :ivar loop: ``(H,)`` bool; :ivar targets: ``(H,)`` W.
    :ivar models: power models; :ivar thermals: thermal models by host.
    :ivar problem, build_info: the placement problem and what its build
        decided.
    :ivar solution: the solver's :class:`~heatwatcher.optimize.solver.Result`
        (as the solver returned it).
    :ivar assign: ``(N,)`` the placement planned.
    :ivar status: :class:`~heatwatcher.optimize.status.Status`.
    :ivar actions: :class:`~heatwatcher.planning.actions.Action` list.
    :ivar sequencing: waves, temporary hops and seconds of the check.
    :ivar power_action_type: the Watcher action that powers nodes off.
    :ivar series_cache: None, or the
        :class:`~heatwatcher.telemetry.history_cache.SeriesCache` the
        history reads go through.
    :ivar notes: what every step noticed, in order.
    """

    settings: object
    snapshot: collect.Snapshot = None
    measured_load: np.ndarray = None
    forecast: forecasting.Forecast = None
    loop: np.ndarray = None
    targets: np.ndarray = None
    models: object = None
    thermals: dict = None
    problem: object = None
    build_info: build.BuildInfo = None
    solution: solver.Result = None
    assign: np.ndarray = None
    status: Status = None
    baremetal: dict = None
    actions: list = None
    sequencing: dict = None
    power_action_type: str = 'heatwatcher_node_power'
    series_cache: object = None
    notes: list = dataclasses.field(default_factory=list)

    @property
    def hostnames(self):
        return [host.name for host in self.snapshot.hosts]

    def note(self, message):
        """Record ``message`` in the audit's notes and the log."""
        LOG.info('heat_consolidation: %s', message)
        self.notes.append(message)


def read_telemetry(state, compute_model, datasource):
    """Step 1: the snapshot and the measured load."""
    settings = state.settings
    state.snapshot = collect.collect(compute_model, datasource,
                                     sources.load_period(settings),
                                     settings.granularity)
    state.measured_load = np.array(
        [np.nan if inst.cpu_percent is None else inst.cpu_percent
         for inst in state.snapshot.instances], dtype=float)
    state.notes.extend(state.snapshot.notes)
    if not state.snapshot.hosts:
        LOG.warning('heat_consolidation: no enabled compute node that is '
                    'up in the audit scope; nothing to do')


def plan_loads(state, compute_model, datasource, store, state_name):
    """Step 2: the planned load, by mode (see :mod:`.forecasting`)."""
    state.forecast = forecasting.forecast_loads(
        datasource=datasource, compute_model=compute_model,
        settings=state.settings, snapshot=state.snapshot,
        measured_load=state.measured_load, store=store,
        state_name=state_name, cache=state.series_cache)
    state.notes.extend(state.forecast.notes)


def choose_loop_hosts(state):
    """Step 3: loop hosts and targets; configured patterns are checked."""
    pattern_notes = heat_consolidation_settings.check_patterns(
        state.settings, state.hostnames)
    for note in pattern_notes:
        LOG.warning('heat_consolidation: configured %s', note)
    state.notes.extend(pattern_notes)
    state.loop, state.targets = (
        heat_consolidation_settings.loop_hosts_and_targets(
            state.settings, state.hostnames))


def estimate_heat(state, compute_model, datasource):
    """Step 4: power (and thermal) models from the chosen heat source.

    With ``heat_metric time_above_temperature``, the targets become the
    watts that keep each host above the useful temperature.
    """
    settings, names = state.settings, state.hostnames
    series, end, notes = {}, None, []
    metrics = sources.metrics_for(settings.heat_source)
    if metrics and names:
        series, end, notes = collect.host_series(
            datasource, compute_model, names, metrics, settings.fit_window,
            settings.granularity, cache=state.series_cache)
    state.models, more = sources.power_models(settings.power_model,
                                              state.snapshot.hosts, series)
    notes += more
    state.thermals = {}
    if settings.heat_source == 'simulation' and names:
        state.thermals, more = sources.thermal_models(settings, names,
                                                      series, end)
        notes += more
        if settings.heat_metric == 'time_above_temperature':
            state.targets, more = sources.time_above_targets(
                settings, names, state.models, state.thermals,
                state.targets)
            notes += more
    for note in notes:
        state.note(note)


def build_problem(state):
    """Step 5: the placement problem on the planned load."""
    state.problem, state.build_info = build.build(
        state.snapshot, state.settings, state.models, state.loop,
        state.targets, cpu_percent=state.forecast.planned_load)
    for note in state.build_info.notes:
        LOG.warning('heat_consolidation: %s', note)
    state.notes.extend(state.build_info.notes)
    state.notes.extend('host %s not considered: %s' % item
                       for item in sorted(state.snapshot.skipped_hosts
                                          .items()))


def optimise(state):
    """Step 6: solve, then keep the placement only if its gain lasts.

    Loop hosts within ``target_hysteresis`` of their target are held there
    for the solve and the damping (:mod:`heatwatcher.optimize.calm`).
    """
    settings = state.settings
    problem, held = calm.hold_targets(state.problem,
                                      settings.target_hysteresis)
    if held.any():
        state.note('hysteresis: %d loop hosts within %.0f %% of their '
                   'target are held at target (%s)'
                   % (held.sum(), 100 * settings.target_hysteresis,
                      ', '.join(state.hostnames[host]
                                for host in np.flatnonzero(held))))
    result = solver.solve(problem, solver.Options(
        time_limit=settings.solver_time_limit,
        mip_rel_gap=settings.mip_rel_gap,
        max_moves=settings.max_migrations or None))
    LOG.info('heat_consolidation solve: %s (%s, method %s, %.1f s, '
             'bound %d by %s)', result.status, result.reason,
             result.method, result.elapsed, result.bound.reached,
             result.bound.method)
    state.notes.append('solver: %s: %s' % (result.status, result.reason))
    state.solution = result
    state.assign, state.status = result.assign, Status(result.status)
    if settings.migration_heat_cost > 0 and not _worth_the_cost(state,
                                                                problem):
        return
    keep, share = damping.lasting(problem, state.assign,
                                  state.forecast.path, state.forecast.used,
                                  settings.min_benefit_duration)
    state.forecast.report['lasting_share'] = share
    if not keep:
        _stay_put(state, 'forecast: the plan beats the current placement in '
                  'only %.0f %% of the horizon (min_benefit_duration '
                  '%.0f %%); no migration is planned'
                  % (100 * share, 100 * settings.min_benefit_duration))
        return
    keep, at_target, needed = calm.release_lasts(
        state.problem, problem, state.assign, settings.target_hysteresis)
    if not keep:
        _stay_put(state, 'hysteresis: the plan only releases hosts, and '
                  'with every load %.0f %% lower %d of its hosts would stay '
                  'at target, fewer than the %d at target without it; no '
                  'migration is planned'
                  % (100 * settings.target_hysteresis, at_target, needed))


def _worth_the_cost(state, problem):
    """Keep the migrations worth ``migration_heat_cost`` W each.

    :func:`~heatwatcher.optimize.priced.priced_plan` on ``problem`` (the
    targets the solve had), with the solve's time limit and gap. Returns
    False when no migration is left (the audit then stays put).
    """
    settings = state.settings
    cost = settings.migration_heat_cost
    planned = int((state.assign != problem.current).sum())
    if planned == 0:
        return True
    outcome = priced.priced_plan(problem, state.assign, cost, solver.Options(
        time_limit=settings.solver_time_limit,
        mip_rel_gap=settings.mip_rel_gap))
    tried = '; '.join(
        'of %s, %s' % (source, 'no subset found' if kept is None
                       else '%d worth %.0f W' % kept)
        for source, kept in outcome.tried.items())
    made = int((outcome.assign != problem.current).sum())
    if made == 0:
        _stay_put(state, 'migration_heat_cost: no migration is worth %g W '
                  '(the plan makes %d; subsets worth the most: %s); no '
                  'migration is planned' % (cost, planned, tried))
        return False
    state.note('migration_heat_cost: %d migrations worth %.0f W at %g W '
               'each, from %s (the plan makes %d; subsets worth the most: '
               '%s)' % (made, outcome.worth, cost, outcome.source, planned,
                        tried))
    state.assign = outcome.assign
    return True


def _stay_put(state, reason):
    """Drop the solver's placement for the current one (``DAMPED``)."""
    state.note(reason)
    state.assign, state.status = state.problem.current.copy(), Status.DAMPED


def plan_actions(state, metal_helper):
    """Step 7: actions realising ``state.assign``.

    :raises: :class:`~heatwatcher.exception.BaremetalNodeNotFound` when a
        host to power off has no bare metal node (no partial plan).
    """
    settings, problem = state.settings, state.problem
    known = state.baremetal or {}
    emptied = [state.hostnames[host] for host in np.flatnonzero(
        watcher_actions.emptied_hosts(problem, state.assign))]
    unknown = [name for name in emptied if name not in known]
    if settings.idle_host_action == 'power_off' and unknown:
        state.baremetal = {**known, **collect.baremetal_nodes(
            metal_helper, unknown)}
    state.actions = watcher_actions.plan(
        state.snapshot, problem, state.assign,
        state.build_info.migration_type, settings.idle_host_action,
        heat_consolidation_settings.DISABLED_REASON, state.baremetal,
        state.power_action_type)


def check_sequence(state, limits, metal_helper):
    """Step 8: order the plan as the ``heat_sequenced`` planner will.

    :param limits: the planner's :class:`~heatwatcher.planning.sequence.
        Limits`, so the waves counted here are the plan's.
    """
    state.sequencing = {'waves': 0, 'temporary_hops': 0, 'seconds': 0.0}
    started = time.monotonic()
    try:
        order = sequence.sequence(
            [{'action_type': action.action_type,
              'input_parameters': dict(action.input_parameters,
                                       resource_id=action.resource_id)}
             for action in state.actions],
            *sequence.inputs_from_snapshot(state.snapshot), limits=limits)
    except sequence.SequencingError as exc:
        LOG.warning('heat_consolidation: %s; no migration is planned', exc)
        state.notes.append('%s; no migration is planned' % exc)
        state.assign = state.problem.current.copy()
        state.status = Status.NOT_SEQUENCED
        plan_actions(state, metal_helper)
        return
    state.sequencing = {'waves': order.waves,
                        'temporary_hops': order.temporary_hops,
                        'seconds': time.monotonic() - started}
    state.notes.append('sequencing: %d migration waves, %d temporary hops'
                       % (order.waves, order.temporary_hops))


def report(state):
    """Step 9: ``(efficacy indicators, audit report)``."""
    settings, problem, result = state.settings, state.problem, \
        state.solution
    indicators = efficacy.indicators(problem, state.assign,
                                     settings.idle_host_action)
    rows = host_report.host_rows(problem, state.assign, state.models,
                                 settings.idle_host_action)
    for position, row in enumerate(rows):
        row['forecast'] = state.forecast.hosts.get(row['name'])
        if settings.heat_source == 'simulation':
            row['simulation'] = sources.outlook(
                settings, position, row['name'], state.models,
                state.thermals, row['heat_rate_after'])
    audit_report = {
        'settings': settings.as_dict(), 'notes': state.notes,
        'missing_instance_cpu_usage': state.build_info.missing,
        'hosts': rows,
        'forecast': state.forecast.report,
        'skipped_hosts': dict(state.snapshot.skipped_hosts),
        'solver': {'status': str(state.status), 'method': result.method,
                   'reason': result.reason, 'seconds': result.elapsed,
                   'reached': int(result.score.reached),
                   'upper_bound': result.bound.reached,
                   'bound_method': result.bound.method,
                   'greedy_seconds': result.stats.get('greedy_seconds'),
                   'greedy_stopped': result.stats.get('greedy_stopped'),
                   'bound_seconds': result.stats.get('bound_seconds'),
                   'cells': result.stats.get('cells'),
                   'migrations_before_trim': result.stats.get(
                       'migrations_before_trim'),
                   'trim_seconds': result.stats.get('trim_seconds'),
                   'sequencing': state.sequencing},
        'summary': _summary(state, indicators)}
    return indicators, audit_report


def _summary(state, indicators):
    """One line for the audit's status message."""
    forecast = state.forecast.report
    parts = ['%s: %d/%d loop hosts at target (bound %d)'
             % (state.status, state.solution.score.reached,
                indicators['loop_hosts_count'],
                state.solution.bound.reached),
             'mode %s' % forecast['mode']]
    if forecast['failsafe_hosts']:
        parts.append('%d hosts in failsafe'
                     % len(forecast['failsafe_hosts']))
    if state.build_info.missing:
        parts.append('%d instances without CPU data (%s)'
                     % (len(state.build_info.missing),
                        state.settings.missing_metric_policy))
    if state.snapshot.skipped_hosts:
        parts.append('%d hosts down or disabled skipped'
                     % len(state.snapshot.skipped_hosts))
    return '; '.join(parts)
