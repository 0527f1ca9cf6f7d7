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
"""Options, audit parameters and their validation for thermal_shedding.

Every option of ``[watcher_strategies.thermal_shedding]`` is also an audit
parameter (``null`` = the option); see :mod:`.options`.
"""

from oslo_config import cfg
from oslo_config import types

from heatwatcher.estimation import sources
from heatwatcher import exception
from heatwatcher.strategies import options
from heatwatcher.thermal import ranking

DISABLED_REASON = 'watcher_thermal_shedding'

OPTIONS = [
    cfg.StrOpt('temperature_metric', default='host_outlet_temp',
               choices=[('host_outlet_temp', 'air or coolant leaving the '
                                             'host'),
                        ('host_inlet_temp', 'air or coolant entering it')],
               help='Host temperature the thresholds apply to.'),
    cfg.Opt('thermal_zones', type=options.Zones(), default={},
            help='Thermal zones as zone:pattern;pattern pairs, e.g. '
                 '``row1:r1-*;r2-*,row2:r3-*``. Empty: one zone of all '
                 'hosts. As an audit parameter: ``{"row1": ["r1-*", '
                 '"r2-*"]}``.'),
    cfg.StrOpt('zone_aggregate', default='max',
               choices=[('max', 'hottest host'),
                        ('mean', 'mean of the hosts')],
               help='How a zone\'s temperature is made from its hosts\'.'),
    cfg.FloatOpt('trigger_temperature', default=40.0,
                 help='T1 (°C): a zone at or above it is in a thermal '
                      'event and sheds hosts.'),
    cfg.FloatOpt('clear_temperature', default=37.0,
                 help='T2 (°C), below T1: the event is over below it.'),
    cfg.FloatOpt('power_up_temperature', default=34.0,
                 help='T3 (°C), at most T2: shed hosts come back while '
                      'the zone stays below it.'),
    cfg.FloatOpt('watts_per_degree', default=400.0, min=1.0,
                 help='Heat (W) a zone must shed per °C above T2, and '
                      'the rise per W brought back.'),
    cfg.Opt('heat_budget', type=types.Dict(types.Float(min=0)), default={},
            help='Per zone, the heat (W) its degraded cooling can remove; '
                 'the zone sheds what it produces above that.'),
    cfg.ListOpt('protected_hosts', default=[],
                item_type=options.HostPattern(),
                help='Hostnames or patterns never shed (e.g. controllers).'),
    cfg.Opt('project_priorities', type=types.Dict(types.Float()),
            default={},
            help='Project id -> importance; instances of important '
                 'projects make their host costly to shed.'),
    *[cfg.FloatOpt('weight_%s' % name, default=1.0, min=0.0,
                   help='Weight of the %s %s factor in the shedding rank.'
                        % (name, 'cost' if name in ranking.COST
                           else 'benefit'))
      for name in ranking.COST + ranking.BENEFIT],
    cfg.StrOpt('evacuation_policy', default='skip_host',
               choices=[('skip_host', 'a host whose instances do not all '
                                      'fit elsewhere is not shed'),
                        ('stop_low_priority', 'the least important '
                                              'instances that fit nowhere '
                                              'are stopped')],
               help='What to do when a host cannot be fully evacuated.'),
    cfg.IntOpt('max_power_up_per_run', default=2, min=0,
               help='Most shed hosts brought back by one audit run.'),
    cfg.IntOpt('period', default=600, min=60,
               help='Window (s) over which temperatures and CPU use are '
                    'averaged.'),
    cfg.IntOpt('granularity', default=300, min=1,
               help='Datasource granularity (s).'),
    *options.power_model_options(),
]


def config_opts():
    """The strategy's own oslo.config options."""
    return list(OPTIONS)


def schema():
    """JSON schema of the audit parameters (``null`` = the option)."""
    return options.schema(OPTIONS, 'thermal_shedding')


def _weights(settings):
    return {name: getattr(settings, 'weight_%s' % name)
            for name in ranking.COST + ranking.BENEFIT}


def _power_model(settings):
    # Shedding ranks hosts on configured curves: no fit, no history read.
    return sources.PowerModelSettings(
        heat_source='history',
        host_power_profiles=settings.host_power_profiles,
        default_idle_power=settings.default_idle_power,
        default_max_power=settings.default_max_power,
        granularity=settings.granularity)


#: Resolved settings of one audit: one field per option, ``from_audit``,
#: ``weights`` (``{factor: weight}``) and ``power_model``.
Settings = options.settings_class(
    'ThermalSheddingSettings', OPTIONS,
    namespace={'weights': property(_weights),
               'power_model': property(_power_model)})


def _zones(value):
    zones = {}
    for zone, patterns in (value or {}).items():
        if isinstance(patterns, str):
            patterns = [pattern for pattern in patterns.split(';')
                        if pattern]
        zones[str(zone)] = list(patterns)
    return zones


def resolve(config, params):
    """Merge parameters over options and check T3 <= T2 < T1 and the rest.

    :raises: :class:`~heatwatcher.exception.InvalidParameter`
    """
    values, given = options.merge(OPTIONS, config, params)
    settings = Settings(**values, from_audit=given)
    settings.thermal_zones = _zones(settings.thermal_zones)
    settings.protected_hosts = list(settings.protected_hosts or [])
    settings.heat_budget = {str(zone): float(watts) for zone, watts in
                            (settings.heat_budget or {}).items()}
    settings.project_priorities = {
        str(project): float(importance) for project, importance in
        (settings.project_priorities or {}).items()}
    options.check_power_model(settings)
    trigger, clear, power_up = (settings.trigger_temperature,
                                settings.clear_temperature,
                                settings.power_up_temperature)
    if not clear < trigger:
        raise exception.InvalidParameter(
            field='clear_temperature',
            reason='T2 (%s degC) must be below trigger_temperature T1 '
                   '(%s degC)' % (clear, trigger))
    if not power_up <= clear:
        raise exception.InvalidParameter(
            field='power_up_temperature',
            reason='T3 (%s degC) must be at most clear_temperature T2 '
                   '(%s degC)' % (power_up, clear))
    for zone in settings.heat_budget:
        if settings.thermal_zones and zone not in settings.thermal_zones:
            raise exception.InvalidParameter(
                field='heat_budget[%s]' % zone,
                reason='not a zone of thermal_zones (%s)'
                       % ', '.join(sorted(settings.thermal_zones)))
    return settings
