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
"""Options, audit parameters and their validation for heat_consolidation.

Every setting is both an option of ``[watcher_strategies.heat_consolidation]``
and an audit parameter. An audit parameter left out (``null``) takes the
option's value, so operators set site policy in ``watcher.conf`` and override
it per audit.
"""

import dataclasses
import datetime

from oslo_config import cfg
from oslo_config import types

from heatwatcher import exception
from heatwatcher.strategies import settings_base as base

DISABLED_REASON = 'watcher_heat_consolidation'
MISSING_POLICY_CHOICES = [
    ('assume_full', 'the instance keeps all its vCPUs busy (safe for '
                    'capacity)'),
    ('assume_idle', 'the instance uses no CPU and gives no heat'),
    ('skip_instance', 'the instance stays where it is and gives no heat')]
IDLE_HOST_ACTION_CHOICES = [
    ('disable', 'disable the nova-compute service with reason %s'
                % DISABLED_REASON),
    ('power_off', 'disable the service, then power the node off through '
                  'the bare metal service'),
    ('none', 'leave the host on and enabled')]
MISSING_POLICIES = tuple(c for c, _ in MISSING_POLICY_CHOICES)
IDLE_HOST_ACTIONS = tuple(c for c, _ in IDLE_HOST_ACTION_CHOICES)

_POSITIVE = {'type': 'number', 'minimum': 0}
_PROFILE = {'type': 'array', 'items': _POSITIVE, 'minItems': 2,
            'maxItems': 11}
HEAT_SOURCE_CHOICES = [
    ('history', 'configured idle/max (or profile) model on the mean load '
                'over period'),
    ('realtime', 'power model on the latest sample of the load'),
    ('model', 'power model fitted from host telemetry on the expected '
              'load'),
    ('simulation', 'fitted power model and a fitted thermal (RC) model '
                   'simulated over horizon')]
MODE_CHOICES = [
    ('auto', 'proactive while the forecast backtest error is below '
             'autostart_accuracy, reactive otherwise'),
    ('reactive', 'plan on the measured load over period'),
    ('proactive', 'plan on the forecast load over horizon')]
HEAT_METRIC_CHOICES = [
    ('heat_rate', 'targets are heat rates (W)'),
    ('time_above_temperature', 'targets are the fraction of horizon the '
                               'outlet temperature stays above '
                               'min_useful_temperature (needs '
                               'heat_source simulation)')]

# (option, JSON schema of the audit parameter without null/default/description)
SETTINGS = [
    (cfg.ListOpt(
        'loop_hosts', default=[],
        help='Hostnames or fnmatch patterns of the compute nodes attached to '
             'the heat-reuse loop. Empty: every compute node is a loop '
             'host.'),
     {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
    (cfg.FloatOpt(
        'target_heat_rate', default=300.0, min=0,
        help='Target minimum heat rate (W) of a loop host: below it, the '
             'loop cannot use the host\'s heat.'),
     _POSITIVE),
    (cfg.Opt(
        'host_targets', type=types.Dict(types.Float(min=0)), default={},
        help='Per-host target heat rates (W) overriding target_heat_rate, '
             'as hostname-or-pattern:watts pairs, e.g. '
             '``gpu-*:600,compute-7:450``. An exact hostname wins over a '
             'pattern.'),
     {'type': 'object', 'additionalProperties': _POSITIVE}),
    (cfg.FloatOpt(
        'default_idle_power', default=100.0, min=0,
        help='Power (W) a host draws idle, when no profile matches it.'),
     _POSITIVE),
    (cfg.FloatOpt(
        'default_max_power', default=350.0, min=0,
        help='Power (W) a host draws at 100 % CPU, when no profile matches '
             'it.'),
     _POSITIVE),
    (cfg.Opt(
        'host_power_profiles', type=types.Dict(types.String()), default={},
        help='Per-host power profiles as hostname-or-pattern:idle/max pairs '
             'in watts, e.g. ``r640-*:95/310,r740-*:120/480``, or 11 watts at '
             '0, 10, ..., 100 % CPU separated by "/". As an audit parameter: '
             '``{"r640-*": [95, 310]}``.'),
     {'type': 'object', 'additionalProperties': _PROFILE}),
    (cfg.StrOpt(
        'heat_source', default='model', choices=HEAT_SOURCE_CHOICES,
        help='Where heat estimates come from.'),
     {'type': 'string', 'enum': [c for c, _ in HEAT_SOURCE_CHOICES]}),
    (cfg.IntOpt(
        'fit_window', default=7 * 86400, min=3600,
        help='History (s) of host_power and host_cpu_usage used to fit each '
             'host\'s power curve.'),
     {'type': 'integer', 'minimum': 3600}),
    (cfg.IntOpt(
        'min_fit_samples', default=100, min=10,
        help='Fewest (CPU, power) pairs for a fit to be used.'),
     {'type': 'integer', 'minimum': 10}),
    (cfg.FloatOpt(
        'min_fit_util_range', default=0.15, min=0.0, max=1.0,
        help='Narrowest span of CPU utilisation (5th to 95th percentile, '
             'fraction) for a fit to be used.'),
     {'type': 'number', 'minimum': 0, 'maximum': 1}),
    (cfg.StrOpt(
        'heat_metric', default='heat_rate', choices=HEAT_METRIC_CHOICES,
        help='What loop-host targets measure.'),
     {'type': 'string', 'enum': [c for c, _ in HEAT_METRIC_CHOICES]}),
    (cfg.IntOpt(
        'horizon', default=3600, min=300,
        help='Time (s) ahead the plan is made for: the forecast horizon, '
             'and the time simulated by heat_source simulation.'),
     {'type': 'integer', 'minimum': 300}),
    (cfg.FloatOpt(
        'min_useful_temperature', default=45.0,
        help='Outlet temperature (deg C) above which the loop can use the '
             'heat (for a two-phase loop: the coolant\'s boiling point).'),
     {'type': 'number'}),
    (cfg.FloatOpt(
        'target_time_above', default=0.9, min=0.0, max=1.0,
        help='With heat_metric time_above_temperature: fraction of horizon '
             'a loop host must stay above min_useful_temperature.'),
     {'type': 'number', 'minimum': 0, 'maximum': 1}),
    (cfg.IntOpt(
        'period', default=3600, min=60,
        help='Time window (s) over which instance CPU use is averaged.'),
     {'type': 'integer', 'minimum': 60}),
    (cfg.IntOpt(
        'granularity', default=300, min=1,
        help='Datasource granularity (s) of the CPU use series.'),
     {'type': 'integer', 'minimum': 1}),
    (cfg.StrOpt(
        'missing_metric_policy', default='assume_full',
        choices=MISSING_POLICY_CHOICES,
        help='How to treat an instance without CPU data: assume_full (its '
             'vCPUs fully busy: safe for capacity), assume_idle (no load, '
             'no heat), skip_instance (it stays where it is and adds no '
             'heat). Each case is logged and counted in the audit.'),
     {'type': 'string', 'enum': list(MISSING_POLICIES)}),
    (cfg.BoolOpt(
        'allow_cold_migration', default=False,
        help='Move stopped instances by cold migration. Active instances '
             'always move by live migration; other states never move.'),
     {'type': 'boolean'}),
    (cfg.FloatOpt(
        'headroom', default=0.0, min=0.0, max=0.9,
        help='Fraction of each host\'s vCPU, RAM, disk and CPU capacity '
             'kept free.'),
     {'type': 'number', 'minimum': 0, 'maximum': 0.9}),
    (cfg.StrOpt(
        'idle_host_action', default='disable',
        choices=IDLE_HOST_ACTION_CHOICES,
        help='What to do with hosts left empty: disable (nova-compute '
             'service disabled with reason %s), power_off (disable, then '
             'power off through the bare metal service), none.'
             % DISABLED_REASON),
     {'type': 'string', 'enum': list(IDLE_HOST_ACTIONS)}),
    (cfg.IntOpt(
        'max_migrations', default=0, min=0,
        help='Most migrations in one action plan; 0 means unlimited.'),
     {'type': 'integer', 'minimum': 0}),
    (cfg.FloatOpt(
        'solver_time_limit', default=60.0, min=1.0, max=3600.0,
        help='Wall-clock limit (s) of the placement search.'),
     {'type': 'number', 'minimum': 1, 'maximum': 3600}),
    (cfg.StrOpt(
        'mode', default='auto', choices=MODE_CHOICES,
        help='Plan on measured load (reactive), on the forecast for the '
             'next horizon (proactive), or proactive only while the '
             'forecast has proven accurate (auto).'),
     {'type': 'string', 'enum': [c for c, _ in MODE_CHOICES]}),
    (cfg.IntOpt(
        'forecast_window', default=14 * 86400, min=2 * 86400,
        help='History (s) of instance_cpu_usage the forecast is fitted '
             'on.'),
     {'type': 'integer', 'minimum': 2 * 86400}),
    (cfg.IntOpt(
        'slot_minutes', default=20, min=5, max=240,
        help='Length (minutes) of the time-of-day slots of the forecast; '
             'divides a day, and is a multiple of granularity.'),
     {'type': 'integer', 'minimum': 5, 'maximum': 240}),
    (cfg.ListOpt(
        'weekend_days', default=['5', '6'],
        help='Weekday numbers (Monday = 0) forming the weekend day '
             'category of the forecast.'),
     {'type': 'array', 'items': {'type': 'integer', 'minimum': 0,
                                 'maximum': 6}}),
    (cfg.ListOpt(
        'holidays', default=[],
        help='Dates (YYYY-MM-DD) the forecast treats as weekend days.'),
     {'type': 'array', 'items': {'type': 'string',
                                 'pattern': r'^\d{4}-\d{2}-\d{2}$'}}),
    (cfg.IntOpt(
        'accuracy_window', default=2 * 86400, min=86400,
        help='The last seconds of history (whole days) on which the '
             'forecast models are backtested and chosen; fitted on the '
             'history before.'),
     {'type': 'integer', 'minimum': 86400}),
    (cfg.FloatOpt(
        'autostart_accuracy', default=5.0, min=0.0, max=100.0,
        help='Mode auto plans proactively while the chosen model\'s '
             'backtest MAE of host load (percent of host capacity, mean '
             'over hosts) is below this.'),
     {'type': 'number', 'minimum': 0, 'maximum': 100}),
    (cfg.FloatOpt(
        'failsafe_low', default=0.0, min=0.0, max=100.0,
        help='A host whose measured load (% of its vCPUs) is below this is '
             'planned reactively whatever the mode.'),
     {'type': 'number', 'minimum': 0, 'maximum': 100}),
    (cfg.FloatOpt(
        'failsafe_high', default=90.0, min=0.0, max=100.0,
        help='A host whose measured load (% of its vCPUs) is above this is '
             'planned reactively whatever the mode.'),
     {'type': 'number', 'minimum': 0, 'maximum': 100}),
    (cfg.FloatOpt(
        'min_benefit_duration', default=0.5, min=0.0, max=1.0,
        help='Fraction of the horizon a heat gain must last for the '
             'migrations enabling it to be planned: proactive instances '
             'are planned on the highest load they keep for that share of '
             'the horizon.'),
     {'type': 'number', 'minimum': 0, 'maximum': 1}),
    (cfg.FloatOpt(
        'mip_rel_gap', default=1e-4, min=0.0, max=1.0,
        help='Relative MILP gap at which a solve stops (of the weighted '
             'objective; the levels stay ordered).'),
     {'type': 'number', 'minimum': 0, 'maximum': 1}),
]


def config_opts():
    """The strategy's own oslo.config options."""
    return base.config_opts(SETTINGS)


def schema():
    """JSON schema of the audit parameters (``null`` = the option)."""
    return base.schema(SETTINGS, 'heat_consolidation')


@dataclasses.dataclass
class Settings:
    """Resolved settings of one audit (all values checked)."""

    loop_hosts: list
    target_heat_rate: float
    host_targets: dict
    default_idle_power: float
    default_max_power: float
    host_power_profiles: dict
    heat_source: str
    fit_window: int
    min_fit_samples: int
    min_fit_util_range: float
    heat_metric: str
    horizon: int
    min_useful_temperature: float
    target_time_above: float
    period: int
    granularity: int
    missing_metric_policy: str
    allow_cold_migration: bool
    headroom: float
    idle_host_action: str
    max_migrations: int
    solver_time_limit: float
    mode: str
    forecast_window: int
    slot_minutes: int
    weekend_days: list
    holidays: list
    accuracy_window: int
    autostart_accuracy: float
    failsafe_low: float
    failsafe_high: float
    min_benefit_duration: float
    mip_rel_gap: float
    # names of the settings given as audit parameters (the rest: options)
    from_audit: frozenset = frozenset()

    def as_dict(self):
        out = dataclasses.asdict(self)
        out.pop('from_audit')
        return out


def resolve(config, params):
    """Merge audit ``params`` over ``config`` and validate the result.

    :param config: the strategy's option group (attribute access).
    :param params: audit input parameters (mapping; missing or None keys
        take the option value).
    :raises: :class:`~heatwatcher.exception.InvalidParameter`
    """
    values, given = base.merge(SETTINGS, config, params)
    s = Settings(**values, from_audit=given)
    s.loop_hosts = list(s.loop_hosts or [])
    s.host_targets = {str(k): float(v) for k, v in
                      (s.host_targets or {}).items()}
    for key, value in s.host_targets.items():
        if value < 0:
            raise exception.InvalidParameter(
                field='host_targets[%s]' % key,
                reason='a target heat rate is >= 0 W, got %s' % value)
    s.host_power_profiles = {
        str(k): base.parse_profile('host_power_profiles', k, v)
        for k, v in (s.host_power_profiles or {}).items()}
    if s.default_idle_power > s.default_max_power:
        raise exception.InvalidParameter(
            field='default_idle_power',
            reason='idle power (%s W) is above default_max_power (%s W)'
                   % (s.default_idle_power, s.default_max_power))
    if (s.heat_metric == 'time_above_temperature'
            and s.heat_source != 'simulation'):
        raise exception.InvalidParameter(
            field='heat_metric',
            reason='time_above_temperature needs heat_source simulation, '
                   'got %s' % s.heat_source)
    _check_forecast(s)
    if s.granularity > s.period:
        raise exception.InvalidParameter(
            field='granularity',
            reason='granularity (%s s) is longer than period (%s s)'
                   % (s.granularity, s.period))
    return s


def _check_forecast(s):
    try:
        s.weekend_days = sorted({int(d) for d in s.weekend_days or []})
    except (TypeError, ValueError):
        raise exception.InvalidParameter(
            field='weekend_days', reason='expected weekday numbers 0-6, '
            'got %r' % (s.weekend_days,))
    if any(not 0 <= d <= 6 for d in s.weekend_days):
        raise exception.InvalidParameter(
            field='weekend_days', reason='weekday numbers are 0 (Monday) to '
            '6, got %s' % s.weekend_days)
    s.holidays = [str(h) for h in s.holidays or []]
    for h in s.holidays:
        try:
            datetime.date.fromisoformat(h)
        except ValueError:
            raise exception.InvalidParameter(
                field='holidays', reason='%r is not a YYYY-MM-DD date' % h)
    if 1440 % s.slot_minutes or (s.slot_minutes * 60) % s.granularity:
        raise exception.InvalidParameter(
            field='slot_minutes',
            reason='a slot must divide a day and be a multiple of '
                   'granularity (%s s), got %s minutes'
                   % (s.granularity, s.slot_minutes))
    if s.failsafe_low > s.failsafe_high:
        raise exception.InvalidParameter(
            field='failsafe_low', reason='%s %% is above failsafe_high '
            '(%s %%)' % (s.failsafe_low, s.failsafe_high))
    if s.accuracy_window % 86400 or \
            s.accuracy_window + 86400 > s.forecast_window:
        raise exception.InvalidParameter(
            field='accuracy_window',
            reason='whole days, at least one day shorter than '
                   'forecast_window (%s s), got %s s'
                   % (s.forecast_window, s.accuracy_window))


match = base.match


def check_patterns(settings, hostnames):
    """Check loop_hosts, host_targets and host_power_profiles patterns.

    See :func:`settings_base.check_patterns`.
    """
    return base.check_patterns(
        {field: getattr(settings, field) for field in
         ('loop_hosts', 'host_targets', 'host_power_profiles')},
        settings.from_audit, hostnames, 'enabled compute node')
