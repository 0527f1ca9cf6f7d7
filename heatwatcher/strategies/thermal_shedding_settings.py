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
parameter (``null`` = the option).
"""

import dataclasses

from oslo_config import cfg
from oslo_config import types

from heatwatcher import exception
from heatwatcher.strategies import settings_base as base
from heatwatcher.thermal import ranking

DISABLED_REASON = 'watcher_thermal_shedding'
_NUM = {'type': 'number'}
_POS = {'type': 'number', 'minimum': 0}
_PATTERNS = {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}

SETTINGS = [
    (cfg.StrOpt('temperature_metric', default='host_outlet_temp',
                choices=[('host_outlet_temp', 'air or coolant leaving the '
                                              'host'),
                         ('host_inlet_temp', 'air or coolant entering it')],
                help='Host temperature the thresholds apply to.'),
     {'type': 'string', 'enum': ['host_outlet_temp', 'host_inlet_temp']}),
    (cfg.Opt('thermal_zones', type=types.Dict(types.String()), default={},
             help='Thermal zones as zone:pattern;pattern pairs, e.g. '
                  '``row1:r1-*;r2-*,row2:r3-*``. Empty: one zone of all '
                  'hosts. As an audit parameter: ``{"row1": ["r1-*", '
                  '"r2-*"]}``.'),
     {'type': 'object', 'additionalProperties': _PATTERNS}),
    (cfg.StrOpt('zone_aggregate', default='max',
                choices=[('max', 'hottest host'), ('mean', 'mean of the '
                                                           'hosts')],
                help='How a zone\'s temperature is made from its hosts\'.'),
     {'type': 'string', 'enum': ['max', 'mean']}),
    (cfg.FloatOpt('trigger_temperature', default=40.0,
                  help='T1 (degC): a zone at or above it is in a thermal '
                       'event and sheds hosts.'),
     _NUM),
    (cfg.FloatOpt('clear_temperature', default=37.0,
                  help='T2 (degC), below T1: the event is over below it.'),
     _NUM),
    (cfg.FloatOpt('power_up_temperature', default=34.0,
                  help='T3 (degC), at most T2: shed hosts come back while '
                       'the zone stays below it.'),
     _NUM),
    (cfg.FloatOpt('watts_per_degree', default=400.0, min=1.0,
                  help='Heat (W) a zone must shed per degC above T2, and '
                       'the rise per W brought back.'),
     {'type': 'number', 'minimum': 1}),
    (cfg.Opt('heat_budget', type=types.Dict(types.Float(min=0)), default={},
             help='Per zone, the heat (W) its degraded cooling can remove; '
                  'the zone sheds what it produces above that.'),
     {'type': 'object', 'additionalProperties': _POS}),
    (cfg.ListOpt('protected_hosts', default=[],
                 help='Hostnames or patterns never shed (e.g. controllers).'),
     _PATTERNS),
    (cfg.Opt('project_priorities', type=types.Dict(types.Float()),
             default={},
             help='Project id -> importance; instances of important '
                  'projects make their host costly to shed.'),
     {'type': 'object', 'additionalProperties': _NUM}),
    *[(cfg.FloatOpt('weight_%s' % name, default=1.0, min=0.0,
                    help='Weight of the %s %s factor in the shedding rank.'
                         % (name, 'cost' if name in ranking.COST
                            else 'benefit')),
       _POS) for name in ranking.COST + ranking.BENEFIT],
    (cfg.StrOpt('evacuation_policy', default='skip_host',
                choices=[('skip_host', 'a host whose instances do not all '
                                       'fit elsewhere is not shed'),
                         ('stop_low_priority', 'the least important '
                                               'instances that fit nowhere '
                                               'are stopped')],
                help='What to do when a host cannot be fully evacuated.'),
     {'type': 'string', 'enum': ['skip_host', 'stop_low_priority']}),
    (cfg.IntOpt('max_power_up_per_run', default=2, min=0,
                help='Most shed hosts brought back by one audit run.'),
     {'type': 'integer', 'minimum': 0}),
    (cfg.IntOpt('period', default=600, min=60,
                help='Window (s) over which temperatures and CPU use are '
                     'averaged.'),
     {'type': 'integer', 'minimum': 60}),
    (cfg.IntOpt('granularity', default=300, min=1,
                help='Datasource granularity (s).'),
     {'type': 'integer', 'minimum': 1}),
    (cfg.FloatOpt('default_idle_power', default=100.0, min=0,
                  help='Idle power (W) of hosts without a profile.'),
     _POS),
    (cfg.FloatOpt('default_max_power', default=350.0, min=0,
                  help='Power (W) at 100 % CPU of hosts without a profile.'),
     _POS),
    (cfg.Opt('host_power_profiles', type=types.Dict(types.String()),
             default={},
             help='hostname-or-pattern:idle/max (or 11 watts) pairs, as for '
                  'heat_consolidation.'),
     {'type': 'object', 'additionalProperties': {
         'type': 'array', 'items': _POS, 'minItems': 2, 'maxItems': 11}}),
]


def config_opts():
    return base.config_opts(SETTINGS)


def schema():
    return base.schema(SETTINGS, 'thermal_shedding')


@dataclasses.dataclass
class Settings:
    values: dict
    from_audit: frozenset

    def __getattr__(self, name):
        try:
            return self.__dict__['values'][name]
        except KeyError:
            raise AttributeError(name)

    def as_dict(self):
        return dict(self.values)

    @property
    def weights(self):
        return {name: self.values['weight_%s' % name]
                for name in ranking.COST + ranking.BENEFIT}


def _zones(value):
    out = {}
    for zone, patterns in (value or {}).items():
        if isinstance(patterns, str):
            patterns = [p for p in patterns.split(';') if p]
        out[str(zone)] = list(patterns)
    return out


def resolve(config, params):
    """Merge parameters over options and check T3 <= T2 < T1 and the rest.

    :raises: :class:`~heatwatcher.exception.InvalidParameter`
    """
    values, given = base.merge(SETTINGS, config, params)
    values['thermal_zones'] = _zones(values['thermal_zones'])
    values['protected_hosts'] = list(values['protected_hosts'] or [])
    values['heat_budget'] = {str(k): float(v) for k, v in
                             (values['heat_budget'] or {}).items()}
    values['project_priorities'] = {
        str(k): float(v) for k, v in
        (values['project_priorities'] or {}).items()}
    values['host_power_profiles'] = {
        str(k): base.parse_profile('host_power_profiles', k, v)
        for k, v in (values['host_power_profiles'] or {}).items()}
    t1, t2, t3 = (values['trigger_temperature'],
                  values['clear_temperature'],
                  values['power_up_temperature'])
    if not t2 < t1:
        raise exception.InvalidParameter(
            field='clear_temperature',
            reason='T2 (%s degC) must be below trigger_temperature T1 '
                   '(%s degC)' % (t2, t1))
    if not t3 <= t2:
        raise exception.InvalidParameter(
            field='power_up_temperature',
            reason='T3 (%s degC) must be at most clear_temperature T2 '
                   '(%s degC)' % (t3, t2))
    for zone in values['heat_budget']:
        if values['thermal_zones'] and zone not in values['thermal_zones']:
            raise exception.InvalidParameter(
                field='heat_budget[%s]' % zone,
                reason='not a zone of thermal_zones (%s)'
                       % ', '.join(sorted(values['thermal_zones'])))
    if values['default_idle_power'] > values['default_max_power']:
        raise exception.InvalidParameter(
            field='default_idle_power',
            reason='idle power (%s W) is above default_max_power (%s W)'
                   % (values['default_idle_power'],
                      values['default_max_power']))
    return Settings(values, given)
