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
planned load (:mod:`heatwatcher.strategies.forecasting`) -> power models
(:mod:`heatwatcher.estimation.sources`) -> placement problem, solve and
damping (:mod:`heatwatcher.optimize`) -> actions, safe order and efficacy
(:mod:`heatwatcher.planning`). The steps are named functions over one
audit state (:mod:`heatwatcher.strategies.consolidation_audit`); this module
only orchestrates them.

A plan is emitted only if the placement found is strictly better than the
current one on the objective; otherwise the plan holds only the release of
hosts that are already empty.
"""

from oslo_log import log

from heatwatcher import conf
from heatwatcher.conf import heatwatcher as heatwatcher_options
from heatwatcher.conf import planner as planner_options
from heatwatcher.strategies import consolidation_audit as audit_steps
from heatwatcher.strategies import heat_consolidation_settings
from heatwatcher.strategies import heatwatcher_strategy

LOG = log.getLogger(__name__)


class HeatConsolidation(heatwatcher_strategy.HeatwatcherStrategy):
    """Consolidate instances so that heat-reuse loop hosts run hot."""

    DATASOURCE_METRICS = ['instance_cpu_usage']
    SETTINGS = heat_consolidation_settings
    REASON_FOR_DISABLE = heat_consolidation_settings.DISABLED_REASON

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

    def _run(self):
        """The audit's steps, in order (see :mod:`.consolidation_audit`)."""
        settings = heat_consolidation_settings.resolve(
            self.config, self.input_parameters)
        # [heatwatcher] and the planner's group, read once for this audit.
        store = heatwatcher_options.store_policy(conf.CONF)
        limits = planner_options.read_limits(conf.CONF)
        model, datasource = self.compute_model, self.datasource_backend
        state = audit_steps.AuditState(
            settings, power_action_type=heatwatcher_options.power_action_type(
                conf.CONF),
            series_cache=heatwatcher_options.series_cache(conf.CONF))
        audit_steps.read_telemetry(state, model, datasource)
        audit_steps.plan_loads(state, model, datasource, store,
                               self.audit_uuid or 'offline')
        audit_steps.choose_loop_hosts(state)
        audit_steps.estimate_heat(state, model, datasource)
        audit_steps.build_problem(state)
        audit_steps.optimise(state)
        audit_steps.plan_actions(state, self.metal_helper)
        audit_steps.check_sequence(state, limits, self.metal_helper)
        self._emit(state.actions)
        self.indicators, self.report = audit_steps.report(state)
        LOG.info('heat_consolidation indicators: %s', self.indicators)

    def _emit(self, actions):
        """Add ``actions`` to the solution and apply them to the model."""
        model = self.compute_model
        # ModelRoot.get_node_by_name scans every node: look names up once.
        nodes = {node.hostname: node
                 for node in model.get_all_compute_nodes().values()}
        for action in actions:
            self.solution.add_action(action_type=action.action_type,
                                     resource_id=action.resource_id,
                                     input_parameters=action.input_parameters)
            params = action.input_parameters
            if action.action_type == 'migrate':
                model.migrate_instance(
                    model.get_instance_by_uuid(action.resource_id),
                    nodes[params['source_node']],
                    nodes[params['destination_node']])
            elif action.action_type == 'change_nova_service_state':
                node = model.get_node_by_uuid(action.resource_id)
                node.status = 'disabled'
                node.disabled_reason = params['disabled_reason']
