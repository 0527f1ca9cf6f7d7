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
"""Run a Watcher strategy on a snapshot, as the decision engine would.

The strategy is loaded through Watcher's strategy loader (options from
``watcher.conf`` and the snapshot's ``options``), its parameters are checked
and completed with the strategy's schema exactly as Watcher's API does, and
its solution is scheduled by the planner Watcher would use for it, without a
database.
"""

import json
import types

import jsonschema
import networkx as nx
from oslo_config import cfg
from watcher.common import context as watcher_context
from watcher.common import utils
from watcher.decision_engine.loading import default as loading
from watcher import objects

from heatwatcher import exception
from heatwatcher.snapshot import convert

CONF = cfg.CONF


class PlanInputError(exception.HeatwatcherException):
    """A command-line parameter or option is unusable."""

    msg_fmt = '%(field)s: %(reason)s'


def configure(config_file=None):
    """Parse Watcher's configuration (``watcher.conf`` if given)."""
    from watcher import conf  # noqa: registers Watcher's options
    del conf
    args = ['--config-file', config_file] if config_file else []
    CONF(args, project='watcher', default_config_files=[])


def parse_parameters(pairs):
    """``['k=v', ...]`` -> dict; values JSON-decoded when possible."""
    parameters = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition('=')
        if not sep or not key:
            raise PlanInputError(field='-p %s' % pair,
                                 reason='expected key=value')
        try:
            parameters[key] = json.loads(raw)
        except ValueError:
            parameters[key] = raw
    return parameters


def load_strategy(name, options=None):
    """Load strategy ``name`` with ``options`` overriding watcher.conf."""
    loader = loading.DefaultStrategyLoader()
    available = loader.list_available()
    if name not in available:
        raise PlanInputError(field='--strategy', reason='%r is not an '
                             'installed strategy (%s)'
                             % (name, ', '.join(sorted(available))))
    group = loader.get_entry_name(name)
    config_opts = available[name].get_config_opts()
    if config_opts:
        CONF.register_opts(config_opts, group=group)
    known = {opt.dest for opt in config_opts}
    for key, value in (options or {}).items():
        if key not in known:
            raise PlanInputError(field='options.%s.%s' % (name, key),
                                 reason='not an option of %s' % name)
        try:
            CONF.set_override(key, value, group=group)
        except (ValueError, TypeError) as exc:
            raise PlanInputError(field='options.%s.%s' % (name, key),
                                 reason=str(exc))
    return loader.load(name)


def validate_parameters(strategy, params):
    """Check ``params`` and fill defaults, as Watcher's audit API does."""
    params = dict(params)
    try:
        utils.StrictDefaultValidatingDraft4Validator(
            strategy.get_schema()).validate(params)
    except jsonschema.ValidationError as exc:
        field = ('.'.join(str(part) for part in exc.absolute_path)
                 or 'parameters')
        raise PlanInputError(field=field, reason=exc.message)
    except Exception as exc:  # Watcher's AuditParameterNotAllowed
        raise PlanInputError(field='parameters', reason=str(exc))
    return params


def schedule(strategy, solution):
    """Order ``solution``'s actions as the strategy's planner would.

    :returns: list of ``{action_type, input_parameters, parents}`` in a
        valid execution order; ``parents`` are indices into the list.
    """
    planner = loading.DefaultPlannerLoader().load(strategy.planner)
    if hasattr(planner, 'offline_schedule'):
        return planner.offline_schedule(solution)
    if not hasattr(planner, 'compute_action_graph'):
        raise exception.HeatwatcherException(
            'planner %r cannot be run offline' % strategy.planner)
    objects.register_all()
    context = watcher_context.make_context(is_admin=True)
    plan = types.SimpleNamespace(id=0)
    graph = planner.compute_action_graph(
        planner.get_sorted_actions_by_weight(context, plan, solution))
    position = {action.uuid: rank
                for rank, action in enumerate(graph.nodes())}
    order = list(nx.lexicographical_topological_sort(
        graph, key=lambda action: position[action.uuid]))
    order_index = {action.uuid: rank for rank, action in enumerate(order)}
    return [{'action_type': action.action_type,
             'input_parameters': dict(action.input_parameters),
             'parents': sorted(order_index[parent]
                               for parent in action.parents)}
            for action in order]


def run(doc, strategy_name='heat_consolidation', params=None):
    """Run ``strategy_name`` on snapshot ``doc``; return the plan document.

    :raises: :class:`~heatwatcher.exception.HeatwatcherException` for bad
        input (parameters, options, data the strategy rejects).
    """
    options = (doc.get('options') or {}).get(strategy_name, {})
    strategy = load_strategy(strategy_name, options)
    params = validate_parameters(strategy, params or {})
    strategy._compute_model = convert.to_model(doc)
    strategy._datasource_backend = convert.to_datasource(doc)
    strategy._metal_helper = convert.MetalHelper(doc)
    strategy.input_parameters = utils.Struct(params)
    solution = strategy.execute()
    report = getattr(strategy, 'report', {}) or {}
    plan = {
        'goal': strategy.get_goal_name(),
        'strategy': strategy_name,
        'parameters': report.get('settings', params),
        'actions': schedule(strategy, solution),
        'efficacy_indicators': {indicator.name: indicator.value
                                for indicator in solution.efficacy_indicators},
        'global_efficacy': {indicator.name: indicator.value
                            for indicator in solution.global_efficacy},
        'hosts': report.get('hosts', []),
        'solver': report.get('solver', {}),
        'notes': report.get('notes', []),
    }
    if report.get('forecast'):
        plan['forecast'] = report['forecast']
    return plan


TRADEOFF_FIELDS = ('max_migrations', 'instance_migrations_count',
                   'hosts_reaching_target_count', 'harvested_heat_rate_after',
                   'released_compute_nodes_count')


def parse_budgets(text):
    """``'0,10%,50,unlimited'`` -> ``[0, 0.1, 50, None]``.

    Integers are migration counts, ``N%`` shares of the unlimited plan's
    migrations (floats), ``unlimited`` None.
    """
    budgets = []
    for item in (part.strip() for part in str(text).split(',')):
        try:
            if item == 'unlimited':
                budgets.append(None)
            elif item.endswith('%'):
                share = float(item[:-1]) / 100.0
                if not 0.0 <= share <= 1.0:
                    raise ValueError
                budgets.append(share)
            else:
                count = int(item)
                if count < 0:
                    raise ValueError
                budgets.append(count)
        except ValueError:
            raise PlanInputError(
                field='--budgets', reason='%r is not a number of '
                'migrations, a percentage of the unlimited plan\'s or '
                '"unlimited"' % item)
    return budgets


def _tradeoff_row(max_migrations, plan):
    indicators = plan['efficacy_indicators']
    return dict({field: indicators[field] for field in TRADEOFF_FIELDS[1:]},
                max_migrations=max_migrations)


def _row_without_migrations(plan):
    """The current placement's row, for a budget of 0.

    (``max_migrations`` 0 means unlimited to the strategy.)
    """
    indicators = plan['efficacy_indicators']
    reached = sum(1 for host in plan['hosts']
                  if host['loop'] and host['instances_before']
                  and host['heat_rate_before'] >= host['target_heat_rate'])
    return {'max_migrations': 0, 'instance_migrations_count': 0,
            'hosts_reaching_target_count': reached,
            'harvested_heat_rate_after':
                indicators['harvested_heat_rate_before'],
            'released_compute_nodes_count': 0}


def tradeoff(doc, strategy_name, params, budgets, progress=None):
    """Plans for several migration budgets.

    The strategy runs once without a budget, then once per budget below
    that plan's migrations, with ``max_migrations`` as a constraint of the
    optimisation. A budget at or above the unlimited plan's migrations
    gets the unlimited plan, and a budget of 0 the current placement.

    :param budgets: as :func:`parse_budgets` returns them.
    :returns: ``(unlimited plan document, rows)``: one row per budget, in
        the order given, with the keys of :data:`TRADEOFF_FIELDS`
        (``max_migrations`` None for unlimited).
    """
    if strategy_name != 'heat_consolidation':
        raise PlanInputError(field='--tradeoff', reason='only for the '
                             'heat_consolidation strategy')
    params = dict(params or {}, max_migrations=0)
    unlimited = run(doc, strategy_name, params)
    migrations = unlimited['efficacy_indicators'][
        'instance_migrations_count']
    rows = []
    for budget in budgets:
        if isinstance(budget, float):
            budget = int(round(budget * migrations))
        if budget is None or budget >= migrations:
            rows.append(_tradeoff_row(budget, unlimited))
        elif budget == 0:
            rows.append(_row_without_migrations(unlimited))
        else:
            if progress:
                progress('planning with at most %d migrations' % budget)
            rows.append(_tradeoff_row(budget, run(
                doc, strategy_name, dict(params, max_migrations=budget))))
    return unlimited, rows
