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

import datetime

import numpy as np
from oslo_config import cfg
from oslo_config import types

from heatwatcher.estimation import sources
from heatwatcher import exception
from heatwatcher import hostnames
from heatwatcher.strategies import options

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

# Each option is also a nullable audit parameter (see options.py).
OPTIONS = [
    cfg.ListOpt(
        'loop_hosts', default=[], item_type=options.HostPattern(),
        help='Hostnames or fnmatch patterns of the compute nodes attached to '
             'the heat-reuse loop. Empty: every compute node is a loop '
             'host.'),
    cfg.FloatOpt(
        'target_heat_rate', default=300.0, min=0,
        help='Target minimum heat rate (W) of a loop host: below it, the '
             'loop cannot use the host\'s heat.'),
    cfg.Opt(
        'host_targets', type=types.Dict(types.Float(min=0)), default={},
        help='Per-host target heat rates (W) overriding target_heat_rate, '
             'as hostname-or-pattern:watts pairs, e.g. '
             '``gpu-*:600,compute-7:450``. An exact hostname wins over a '
             'pattern.'),
    *options.power_model_options(),
    cfg.StrOpt(
        'heat_source', default='model', choices=HEAT_SOURCE_CHOICES,
        help='Where heat estimates come from.'),
    cfg.IntOpt(
        'fit_window', default=7 * 86400, min=3600,
        help='History (s) of host_power and host_cpu_usage used to fit each '
             'host\'s power curve.'),
    cfg.IntOpt(
        'min_fit_samples', default=100, min=10,
        help='Fewest (CPU, power) pairs for a fit to be used.'),
    cfg.FloatOpt(
        'min_fit_util_range', default=0.15, min=0.0, max=1.0,
        help='Narrowest span of CPU utilisation (5th to 95th percentile, '
             'fraction) for a fit to be used.'),
    cfg.StrOpt(
        'heat_metric', default='heat_rate', choices=HEAT_METRIC_CHOICES,
        help='What loop-host targets measure.'),
    cfg.IntOpt(
        'horizon', default=3600, min=300,
        help='Time (s) ahead the plan is made for: the forecast horizon, '
             'and the time simulated by heat_source simulation.'),
    cfg.FloatOpt(
        'min_useful_temperature', default=45.0,
        help='Outlet temperature (°C) above which the loop can use the '
             'heat (for a two-phase loop: the coolant\'s boiling point).'),
    cfg.FloatOpt(
        'target_time_above', default=0.9, min=0.0, max=1.0,
        help='With heat_metric time_above_temperature: fraction of horizon '
             'a loop host must stay above min_useful_temperature.'),
    cfg.IntOpt(
        'period', default=3600, min=60,
        help='Time window (s) over which instance CPU use is averaged.'),
    cfg.IntOpt(
        'granularity', default=300, min=1,
        help='Datasource granularity (s) of the CPU use series.'),
    cfg.StrOpt(
        'missing_metric_policy', default='assume_full',
        choices=MISSING_POLICY_CHOICES,
        help='How to treat an instance without CPU data: assume_full (its '
             'vCPUs fully busy: safe for capacity), assume_idle (no load, '
             'no heat), skip_instance (it stays where it is and adds no '
             'heat). Each case is logged and counted in the audit.'),
    cfg.BoolOpt(
        'allow_cold_migration', default=False,
        help='Move stopped instances by cold migration. Active instances '
             'always move by live migration; other states never move.'),
    cfg.FloatOpt(
        'headroom', default=0.0, min=0.0, max=0.9,
        help='Fraction of each host\'s vCPU, RAM, disk and CPU capacity '
             'kept free.'),
    cfg.StrOpt(
        'idle_host_action', default='disable',
        choices=IDLE_HOST_ACTION_CHOICES,
        help='What to do with hosts left empty: disable (nova-compute '
             'service disabled with reason %s), power_off (disable, then '
             'power off through the bare metal service), none.'
             % DISABLED_REASON),
    cfg.IntOpt(
        'max_migrations', default=0, min=0,
        help='Most migrations in one action plan; 0 means unlimited.'),
    cfg.FloatOpt(
        'migration_heat_cost', default=0.0, min=0.0,
        help='Watts each migration must be worth. Above 0, the audit '
             'makes the migrations, taken from its plan or from the best '
             'plans for 10, 25 and 50 % of its migrations, that give the '
             'most harvested heat rate (loop hosts at target) plus idle '
             'power of the hosts emptied, less this many watts per '
             'migration; none when nothing gains more than it costs. 0 '
             'makes every migration of the plan.'),
    cfg.FloatOpt(
        'solver_time_limit', default=60.0, min=1.0, max=3600.0,
        help='Wall-clock limit (s) of the placement search.'),
    cfg.StrOpt(
        'mode', default='auto', choices=MODE_CHOICES,
        help='Plan on measured load (reactive), on the forecast for the '
             'next horizon (proactive), or proactive only while the '
             'forecast has proven accurate (auto).'),
    cfg.IntOpt(
        'forecast_window', default=14 * 86400, min=2 * 86400,
        help='History (s) of instance_cpu_usage the forecast is fitted '
             'on.'),
    cfg.IntOpt(
        'slot_minutes', default=20, min=5, max=240,
        help='Length (minutes) of the time-of-day slots of the forecast; '
             'divides a day, and is a multiple of granularity.'),
    cfg.ListOpt(
        'weekend_days', default=[5, 6],
        item_type=types.Integer(min=0, max=6),
        help='Weekday numbers (Monday = 0) forming the weekend day '
             'category of the forecast.'),
    cfg.ListOpt(
        'holidays', default=[],
        item_type=types.String(regex=r'^\d{4}-\d{2}-\d{2}$'),
        help='Dates (YYYY-MM-DD) the forecast treats as weekend days.'),
    cfg.IntOpt(
        'accuracy_window', default=2 * 86400, min=86400,
        help='The last seconds of history (whole days) on which the '
             'forecast models are backtested and chosen; fitted on the '
             'history before.'),
    cfg.FloatOpt(
        'autostart_accuracy', default=5.0, min=0.0, max=100.0,
        help='Mode auto plans proactively while the chosen model\'s '
             'backtest MAE of host load (percent of host capacity, mean '
             'over hosts) is below this.'),
    cfg.FloatOpt(
        'failsafe_low', default=0.0, min=0.0, max=100.0,
        help='A host whose measured load (% of its vCPUs) is below this is '
             'planned reactively whatever the mode.'),
    cfg.FloatOpt(
        'failsafe_high', default=90.0, min=0.0, max=100.0,
        help='A host whose measured load (% of its vCPUs) is above this is '
             'planned reactively whatever the mode.'),
    cfg.FloatOpt(
        'min_benefit_duration', default=0.5, min=0.0, max=1.0,
        help='Fraction of the horizon a heat gain must last for the '
             'migrations enabling it to be planned: proactive instances '
             'are planned on the highest load they keep for that share of '
             'the horizon.'),
    cfg.FloatOpt(
        'mip_rel_gap', default=1e-4, min=0.0, max=1.0,
        help='Relative MILP gap at which a solve stops (of the weighted '
             'objective; the levels stay ordered).'),
    cfg.FloatOpt(
        'target_hysteresis', default=0.05, min=0.0, max=0.5,
        help='A loop host whose heat rate with its current instances is '
             'below its target by at most this fraction of the target is '
             'held at target: no migration is planned only to bring it '
             'back up, so that continuous audits do not reshuffle a cloud '
             'whose load barely changed. Indicators use the real target. '
             '0 disables the hysteresis.'),
]


def config_opts():
    """The strategy's own oslo.config options."""
    return list(OPTIONS)


def schema():
    """JSON schema of the audit parameters (``null`` = the option)."""
    return options.schema(OPTIONS, 'heat_consolidation')


def _power_model(settings):
    """The power-model block of the settings, as the estimators take it."""
    return sources.PowerModelSettings(
        heat_source=settings.heat_source,
        host_power_profiles=settings.host_power_profiles,
        default_idle_power=settings.default_idle_power,
        default_max_power=settings.default_max_power,
        granularity=settings.granularity,
        min_fit_samples=settings.min_fit_samples,
        min_fit_util_range=settings.min_fit_util_range)


#: Resolved settings of one audit: one field per option (all values
#: checked by :func:`resolve`), ``from_audit`` and ``power_model``.
Settings = options.settings_class(
    'HeatConsolidationSettings', OPTIONS,
    namespace={'power_model': property(_power_model)})


def resolve(config, params):
    """Merge audit ``params`` over ``config`` and validate the result.

    :param config: the strategy's option group (attribute access).
    :param params: audit input parameters (mapping; missing or None keys
        take the option value).
    :raises: :class:`~heatwatcher.exception.InvalidParameter`
    """
    values, given = options.merge(OPTIONS, config, params)
    settings = Settings(**values, from_audit=given)
    settings.loop_hosts = list(settings.loop_hosts or [])
    settings.host_targets = {str(key): float(watts) for key, watts in
                             (settings.host_targets or {}).items()}
    for key, watts in settings.host_targets.items():
        if watts < 0:
            raise exception.InvalidParameter(
                field='host_targets[%s]' % key,
                reason='a target heat rate is >= 0 W, got %s' % watts)
    options.check_power_model(settings)
    if (settings.heat_metric == 'time_above_temperature'
            and settings.heat_source != 'simulation'):
        raise exception.InvalidParameter(
            field='heat_metric',
            reason='time_above_temperature needs heat_source simulation, '
                   'got %s' % settings.heat_source)
    _check_forecast(settings)
    if settings.granularity > settings.period:
        raise exception.InvalidParameter(
            field='granularity',
            reason='granularity (%s s) is longer than period (%s s)'
                   % (settings.granularity, settings.period))
    return settings


def _check_forecast(settings):
    try:
        settings.weekend_days = sorted(
            {int(day) for day in settings.weekend_days or []})
    except (TypeError, ValueError):
        raise exception.InvalidParameter(
            field='weekend_days', reason='expected weekday numbers 0-6, '
            'got %r' % (settings.weekend_days,))
    if any(not 0 <= day <= 6 for day in settings.weekend_days):
        raise exception.InvalidParameter(
            field='weekend_days', reason='weekday numbers are 0 (Monday) to '
            '6, got %s' % settings.weekend_days)
    settings.holidays = [str(day) for day in settings.holidays or []]
    for day in settings.holidays:
        try:
            datetime.date.fromisoformat(day)
        except ValueError:
            raise exception.InvalidParameter(
                field='holidays', reason='%r is not a YYYY-MM-DD date' % day)
    if (1440 % settings.slot_minutes
            or (settings.slot_minutes * 60) % settings.granularity):
        raise exception.InvalidParameter(
            field='slot_minutes',
            reason='a slot must divide a day and be a multiple of '
                   'granularity (%s s), got %s minutes'
                   % (settings.granularity, settings.slot_minutes))
    if settings.failsafe_low > settings.failsafe_high:
        raise exception.InvalidParameter(
            field='failsafe_low', reason='%s %% is above failsafe_high '
            '(%s %%)' % (settings.failsafe_low, settings.failsafe_high))
    if (settings.accuracy_window % 86400
            or settings.accuracy_window + 86400 > settings.forecast_window):
        raise exception.InvalidParameter(
            field='accuracy_window',
            reason='whole days, at least one day shorter than '
                   'forecast_window (%s s), got %s s'
                   % (settings.forecast_window, settings.accuracy_window))


#: The matching rule of host patterns in these settings.
match = hostnames.match


def check_patterns(settings, names):
    """Check loop_hosts, host_targets and host_power_profiles patterns.

    See :func:`options.check_patterns`.
    """
    return options.check_patterns(
        {field: getattr(settings, field) for field in
         ('loop_hosts', 'host_targets', 'host_power_profiles')},
        settings.from_audit, names, 'enabled compute node')


def loop_hosts_and_targets(settings, names):
    """Which hosts are on the loop, and the heat rate each must reach.

    :param names: ``H`` hostnames.
    :returns: ``(loop (H,) bool, targets (H,) W)``: every host is on the
        loop when ``loop_hosts`` is empty; a host's target is its
        ``host_targets`` entry (exact name, then pattern), else
        ``target_heat_rate``.
    """
    if settings.loop_hosts:
        loop = np.array([hostnames.matches_any(settings.loop_hosts, name)
                         for name in names], dtype=bool)
    else:
        loop = np.ones(len(names), dtype=bool)
    keys = [hostnames.match(settings.host_targets, name) for name in names]
    targets = np.array([settings.target_heat_rate if key is None
                        else settings.host_targets[key] for key in keys],
                       dtype=float)
    return loop, targets
