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
"""Options of the ``[heatwatcher]`` group.

Forecast state between audits, and which action powers nodes on and off.
"""

from oslo_config import cfg

from heatwatcher.state import forecast_store
from heatwatcher.telemetry import history_cache

GROUP = 'heatwatcher'

OPTS = [
    cfg.StrOpt(
        'state_path', default=None,
        help='Directory where heat_consolidation keeps its fitted forecast '
             'models between runs of a continuous audit (one file per '
             'audit) and, with telemetry_cache, the series it keeps between '
             'audits (one file per metric, about as large as they are in '
             'memory), so that the first audit after the decision engine '
             'restarts reads only the new part of the history. Unset: '
             'models are fitted on the history at every run, series are '
             'kept in memory only, and nothing is written.'),
    cfg.IntOpt(
        'retrain_interval', default=86400, min=0,
        help='With state_path: seconds after which the saved forecast '
             'models are refitted (and their backtest error measured '
             'again). 0 refits at every run.'),
    cfg.BoolOpt(
        'predict_only', default=False,
        help='With state_path: never refit saved forecast models, only '
             'predict with them (keeps plans from oscillating after the '
             'migrations change the load they were fitted on). Models are '
             'fitted once when none are saved yet.'),
    cfg.BoolOpt(
        'telemetry_cache', default=True,
        help='Keep the series heat_consolidation reads (the forecast\'s '
             'instance CPU history, host power and CPU) in the decision '
             'engine\'s memory between audits, and read only what is new '
             'since the last read of the same metric, plus '
             'telemetry_cache_overlap. About 16 bytes a point: 160 MB for '
             '10,000 instances with 14 days of 20-minute slots. Measures '
             'the datasource changes later than telemetry_cache_overlap '
             'after their time are not seen. Off: every audit reads its '
             'whole windows.'),
    cfg.IntOpt(
        'telemetry_cache_overlap', default=3600, min=0,
        help='With telemetry_cache: seconds before the end of the previous '
             'read that are read again, for measures the datasource had '
             'not processed yet then (gnocchi-metricd\'s backlog).'),
]


POWER_ACTIONS = {
    # option value: Watcher action type
    'heatwatcher': 'heatwatcher_node_power',
    'watcher': 'change_node_power_state',
}

POWER_OPTS = [
    cfg.StrOpt(
        'power_action', default='heatwatcher',
        choices=[('heatwatcher', 'heatwatcher_node_power: refuses to power '
                                 'off a host Nova still lists instances '
                                 'on, waits for the power state and, after '
                                 'a power-on, for the nova-compute service'),
                 ('watcher', "Watcher's change_node_power_state, for sites "
                             "whose Watcher powers nodes off correctly "
                             "(python-watcher 17.0.0 does not)")],
        help='The action both strategies plan to power a compute node off '
             'or on.'),
]


def register_opts(conf):
    conf.register_opts(OPTS + POWER_OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS + POWER_OPTS)]


def store_policy(conf):
    """:class:`~heatwatcher.state.forecast_store.Policy` from ``conf``."""
    group = conf.get(GROUP)
    return forecast_store.Policy(state_path=group.state_path,
                                 retrain_interval=group.retrain_interval,
                                 predict_only=group.predict_only)


def series_cache(conf):
    """The process's series cache, or None when telemetry_cache is off."""
    group = conf.get(GROUP)
    if not group.telemetry_cache:
        return None
    return history_cache.process_cache(group.telemetry_cache_overlap,
                                       group.state_path)


def power_action_type(conf):
    """The Watcher action type of a node power-on or power-off."""
    return POWER_ACTIONS[conf.get(GROUP).power_action]
