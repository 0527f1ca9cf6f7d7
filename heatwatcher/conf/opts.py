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
"""All heatwatcher options, for ``oslo-config-generator``.

Watcher registers a strategy's options under
``[watcher_strategies.<strategy name>]`` when it loads the strategy; this
module lists the same options (including Watcher's own ``datasources``
option that every strategy carries) for the sample configuration.
"""


def list_opts():
    """Return ``[(group name, [options])]`` for every heatwatcher group."""
    from heatwatcher.applier import guarded
    from heatwatcher.conf import heatwatcher
    from heatwatcher.conf import node_power
    from heatwatcher.conf import planner
    from heatwatcher.strategies import heat_consolidation
    from heatwatcher.strategies import thermal_shedding
    return heatwatcher.list_opts() + [
        ('watcher_strategies.heat_consolidation',
         heat_consolidation.HeatConsolidation.get_config_opts()),
        ('watcher_strategies.thermal_shedding',
         thermal_shedding.ThermalShedding.get_config_opts()),
        *planner.list_opts(),
        *node_power.list_opts(),
        ('watcher_workflow_engines.heat_guarded',
         guarded.GuardedWorkFlowEngine.get_config_opts()),
    ]
