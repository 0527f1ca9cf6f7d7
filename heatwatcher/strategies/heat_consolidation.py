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
"""*Heat Consolidation*: pack instances onto the heat-reuse loop hosts.

Loop hosts only deliver useful heat above a target heat rate. The strategy
places instances so that as many loop hosts as possible reach their target,
then so that the fewest hosts stay active (off-loop hosts are emptied
first), then with the cheapest migrations, and releases the hosts left
empty (disabled, or disabled and powered off).

Data flow: telemetry snapshot (:mod:`heatwatcher.telemetry.collect`) ->
power models (:mod:`heatwatcher.estimation.power`) -> placement problem and
solve (:mod:`heatwatcher.optimize`) -> actions and efficacy
(:mod:`heatwatcher.planning`). This module only orchestrates.

A plan is emitted only if the placement found is strictly better than the
current one on the objective; otherwise the plan holds only the release of
hosts that are already empty.
"""

import time

import numpy as np
from oslo_log import log

from heatwatcher.estimation import sources
from heatwatcher.optimize import build
from heatwatcher.optimize import solver
from heatwatcher.planning import actions as actions_mod
from heatwatcher.planning import efficacy
from heatwatcher.planning import report as report_mod
from heatwatcher.planning import sequence
from heatwatcher.strategies import base
from heatwatcher.strategies import forecasting
from heatwatcher.strategies import heat_consolidation_settings as settings
from heatwatcher.telemetry import collect

LOG = log.getLogger(__name__)


class HeatConsolidation(base.HeatwatcherStrategy):
    """Consolidate instances so that heat-reuse loop hosts run hot."""

    DATASOURCE_METRICS = ['instance_cpu_usage']
    SETTINGS = settings
    REASON_FOR_DISABLE = settings.DISABLED_REASON

    @classmethod
    def get_name(cls):
        return 'heat_consolidation'

    @classmethod
    def get_display_name(cls):
        return 'Heat Consolidation'

    @classmethod
    def get_translatable_display_name(cls):
        return 'Heat Consolidation'

    @classmethod
    def get_goal_name(cls):
        return 'heat_reuse'

    # -- steps -------------------------------------------------------------

    def _run(self):
        s = settings.resolve(self.config, self.input_parameters)
        snap = collect.collect(self.compute_model, self.datasource_backend,
                               sources.load_period(s), s.granularity)
        fc = forecasting.plan_loads(self.datasource_backend,
                                    self.compute_model, s, snap,
                                    self.audit_uuid or 'offline')
        snap = fc.snapshot
        names = [h.name for h in snap.hosts]
        pattern_notes = settings.check_patterns(s, names)
        for note in pattern_notes:
            LOG.warning('heat_consolidation: configured %s', note)
        loop, targets = self._loop_and_targets(s, snap)
        models, thermals, est_notes, targets = self._estimate(s, snap,
                                                              targets)
        problem, info = build.build(snap, s, models, loop, targets)
        notes = (list(snap.notes) + fc.notes + pattern_notes + est_notes
                 + info.notes
                 + ['host %s not considered: %s' % kv
                    for kv in sorted(snap.skipped_hosts.items())])
        for note in info.notes:
            LOG.warning('heat_consolidation: %s', note)
        result = solver.solve(problem, solver.Options(
            time_limit=s.solver_time_limit, mip_rel_gap=s.mip_rel_gap,
            max_moves=s.max_migrations or None))
        LOG.info('heat_consolidation solve: %s (%s, method %s, %.1f s, '
                 'bound %d by %s)', result.status, result.reason,
                 result.method, result.elapsed, result.bound.reached,
                 result.bound.method)
        notes.append('solver: %s: %s' % (result.status, result.reason))
        damped = fc.lasting(problem, result.assign, s.min_benefit_duration)
        if damped:
            LOG.info('heat_consolidation: %s', damped)
            notes.append(damped)
            result.assign, result.status = problem.current.copy(), 'damped'
        baremetal = None
        empty = actions_mod.emptied_hosts(problem, result.assign)
        if s.idle_host_action == 'power_off' and empty.any():
            baremetal = collect.baremetal_nodes(
                self.metal_helper, [names[h] for h in np.flatnonzero(empty)])
        plan = actions_mod.plan(snap, problem, result.assign,
                                info.migration_type, s.idle_host_action,
                                self.REASON_FOR_DISABLE, baremetal)
        seq = {'waves': 0, 'temporary_hops': 0, 'seconds': 0.0}
        t0 = time.monotonic()
        try:
            order = sequence.sequence(
                [{'action_type': a.action_type, 'input_parameters': dict(
                    a.input_parameters, resource_id=a.resource_id)}
                 for a in plan], *sequence.inputs_from_snapshot(snap))
            seq = {'waves': order.waves,
                   'temporary_hops': order.temporary_hops,
                   'seconds': time.monotonic() - t0}
            notes.append('sequencing: %d migration waves, %d temporary '
                         'hops' % (order.waves, order.temporary_hops))
        except sequence.SequencingError as exc:
            LOG.warning('heat_consolidation: %s; no migration is planned',
                        exc)
            notes.append('%s; no migration is planned' % exc)
            result.assign = problem.current.copy()
            result.status = 'not_sequenced'
            plan = actions_mod.plan(snap, problem, result.assign,
                                    info.migration_type, s.idle_host_action,
                                    self.REASON_FOR_DISABLE, baremetal)
        self._emit(plan)
        self.indicators = efficacy.indicators(problem, result.assign,
                                              s.idle_host_action)
        self.report = {
            'settings': s.as_dict(), 'notes': notes,
            'missing_instance_cpu_usage': info.missing,
            'hosts': self._host_rows(s, problem, result.assign, models,
                                     thermals, fc.hosts),
            'forecast': fc.report,
            'skipped_hosts': dict(snap.skipped_hosts),
            'solver': {'status': result.status, 'method': result.method,
                       'reason': result.reason, 'seconds': result.elapsed,
                       'upper_bound': result.bound.reached,
                       'bound_method': result.bound.method,
                       'greedy_seconds': result.stats.get('greedy_seconds'),
                       'bound_seconds': result.stats.get('bound_seconds'),
                       'cells': result.stats.get('cells'),
                       'sequencing': seq},
            'summary': self._summary(result, info, snap, s, fc.report)}
        LOG.info('heat_consolidation indicators: %s', self.indicators)

    def _estimate(self, s, snap, targets):
        """Power (and thermal) models from the chosen heat source."""
        names = [h.name for h in snap.hosts]
        series, end, notes = {}, None, []
        metrics = sources.metrics_for(s.heat_source)
        if metrics and names:
            series, end, notes = collect.host_series(
                self.datasource_backend, self.compute_model, names, metrics,
                s.fit_window, s.granularity)
        models, more = sources.power_models(s, snap.hosts, series,
                                            settings.match)
        notes += more
        thermals = {}
        if s.heat_source == 'simulation' and names:
            thermals, more = sources.thermal_models(s, names, series, end)
            notes += more
            if s.heat_metric == 'time_above_temperature':
                targets, more = sources.time_above_targets(
                    s, names, models, thermals, targets)
                notes += more
        for note in notes:
            LOG.info('heat_consolidation: %s', note)
        return models, thermals, notes, targets

    @staticmethod
    def _host_rows(s, problem, assign, models, thermals, forecast):
        rows = report_mod.host_rows(problem, assign, models,
                                    s.idle_host_action)
        for row in rows:
            row['forecast'] = forecast.get(row['name'])
        if s.heat_source == 'simulation':
            for h, row in enumerate(rows):
                row['simulation'] = sources.outlook(
                    s, h, row['name'], models, thermals,
                    row['heat_rate_after'])
        return rows

    def _loop_and_targets(self, s, snap):
        names = [h.name for h in snap.hosts]
        if s.loop_hosts:
            loop = np.array([settings.match(dict.fromkeys(s.loop_hosts), n)
                             is not None for n in names], dtype=bool)
        else:
            loop = np.ones(len(names), dtype=bool)
        targets = np.array([
            s.host_targets[key] if key is not None else s.target_heat_rate
            for key in (settings.match(s.host_targets, n) for n in names)],
            dtype=float)
        if not snap.hosts:
            LOG.warning('heat_consolidation: no enabled compute node that is '
                        'up in the audit scope; nothing to do')
        return loop, targets

    def _emit(self, plan):
        """Add ``plan`` to the solution and apply it to the compute model."""
        model = self.compute_model
        # ModelRoot.get_node_by_name scans every node: look names up once.
        nodes = {n.hostname: n
                 for n in model.get_all_compute_nodes().values()}
        for act in plan:
            self.solution.add_action(action_type=act.action_type,
                                     resource_id=act.resource_id,
                                     input_parameters=act.input_parameters)
            params = act.input_parameters
            if act.action_type == 'migrate':
                model.migrate_instance(
                    model.get_instance_by_uuid(act.resource_id),
                    nodes[params['source_node']],
                    nodes[params['destination_node']])
            elif act.action_type == 'change_nova_service_state':
                node = model.get_node_by_uuid(act.resource_id)
                node.status = 'disabled'
                node.disabled_reason = params['disabled_reason']

    def _summary(self, result, info, snap, s, forecast):
        parts = ['%s: %d/%d loop hosts at target (bound %d)'
                 % (result.status, result.score.reached,
                    self.indicators['loop_hosts_count'],
                    result.bound.reached),
                 'mode %s' % forecast['mode']]
        if forecast['failsafe_hosts']:
            parts.append('%d hosts in failsafe'
                         % len(forecast['failsafe_hosts']))
        if info.missing:
            parts.append('%d instances without CPU data (%s)'
                         % (len(info.missing), s.missing_metric_policy))
        if snap.skipped_hosts:
            parts.append('%d hosts down or disabled skipped'
                         % len(snap.skipped_hosts))
        return '; '.join(parts)
