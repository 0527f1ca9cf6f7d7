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
"""Strategy settings declared once, as oslo.config options.

A strategy lists its options (``OPTIONS``). From that one list come:

* its options, under ``[watcher_strategies.<strategy name>]``;
* the JSON schema of its audit parameters (:func:`schema`): each option is
  a nullable audit parameter whose type, bounds and choices are derived
  from the option's type (:func:`parameter_schema`); ``null`` (left out)
  means "use the option";
* its settings class (:func:`settings_class`), a dataclass with one field
  per option, filled by :func:`merge` with the audit's parameters over the
  options.

Option types whose audit-parameter form differs from their ``watcher.conf``
form (``"95/310"`` in the file, ``[95, 310]`` in an audit) are the classes
below, each carrying its ``JSON_SCHEMA``.
"""

import dataclasses

from oslo_config import cfg
from oslo_config import types

from heatwatcher import exception
from heatwatcher import hostnames


class HostPattern(types.String):
    """A hostname or fnmatch pattern (non-empty)."""

    JSON_SCHEMA = {'type': 'string', 'minLength': 1}


class PowerProfiles(types.Dict):
    """``hostname-or-pattern: idle/max`` (or 11 watts separated by ``/``).

    As an audit parameter: ``{"r640-*": [95, 310]}``.
    """

    JSON_SCHEMA = {'type': 'object', 'additionalProperties': {
        'type': 'array', 'items': {'type': 'number', 'minimum': 0},
        'minItems': 2, 'maxItems': 11}}

    def __init__(self):
        super().__init__(types.String())


class Zones(types.Dict):
    """``zone: pattern;pattern`` pairs; ``{"row1": ["r1-*"]}`` in audits."""

    JSON_SCHEMA = {'type': 'object', 'additionalProperties': {
        'type': 'array', 'items': HostPattern.JSON_SCHEMA}}

    def __init__(self):
        super().__init__(types.String())


def _bounds(option_type, schema):
    for bound, key in (('min', 'minimum'), ('max', 'maximum')):
        value = getattr(option_type, bound, None)
        if value is not None:
            schema[key] = value
    return schema


def type_schema(option_type):
    """JSON schema of one value of an oslo.config type."""
    own = getattr(option_type, 'JSON_SCHEMA', None)
    if own is not None:
        return dict(own)
    if isinstance(option_type, types.Boolean):
        return {'type': 'boolean'}
    if isinstance(option_type, types.Integer):
        return _bounds(option_type, {'type': 'integer'})
    if isinstance(option_type, types.Float):
        return _bounds(option_type, {'type': 'number'})
    if isinstance(option_type, types.List):
        return {'type': 'array',
                'items': type_schema(option_type.item_type)}
    if isinstance(option_type, types.Dict):
        return {'type': 'object',
                'additionalProperties': type_schema(option_type.value_type)}
    if isinstance(option_type, types.String):
        schema = {'type': 'string'}
        if option_type.choices:
            schema['enum'] = list(option_type.choices)
        if option_type.regex is not None:
            schema['pattern'] = option_type.regex.pattern
        return schema
    raise TypeError('no JSON schema for option type %r' % (option_type,))


def parameter_schema(option, strategy_name):
    """Schema of the nullable audit parameter standing for ``option``."""
    schema = type_schema(option.type)
    schema['type'] = [schema['type'], 'null']
    if 'enum' in schema:
        schema['enum'] = schema['enum'] + [None]
    schema['default'] = None
    schema['description'] = ('%s Null uses [watcher_strategies.%s] %s '
                             '(default %r).' % (option.help, strategy_name,
                                                option.dest, option.default))
    return schema


def schema(options, strategy_name):
    """JSON schema of a strategy's audit parameters."""
    return {'type': 'object',
            'properties': {option.dest: parameter_schema(option,
                                                         strategy_name)
                           for option in options},
            'additionalProperties': False}


def settings_class(class_name, options, namespace=None):
    """A dataclass with one field per option, plus ``from_audit``.

    ``from_audit`` holds the names of the settings given as audit
    parameters (the others came from the options). ``as_dict()`` gives
    the settings without it.

    :param namespace: extra methods and properties of the class.
    """
    fields = [(option.dest, object) for option in options]
    fields.append(('from_audit', frozenset,
                   dataclasses.field(default=frozenset())))

    def as_dict(self):
        values = dataclasses.asdict(self)
        values.pop('from_audit')
        return values

    return dataclasses.make_dataclass(
        class_name, fields, namespace=dict(namespace or {}, as_dict=as_dict))


def merge(options, config, params):
    """Audit ``params`` over ``config`` options.

    :param config: the strategy's option group (attribute access).
    :param params: audit parameters (mapping; missing or None keys take
        the option's value).
    :returns: ``(values by option name, names given as parameters)``
    """
    values, given = {}, set()
    for option in options:
        value = params.get(option.dest) if params else None
        if value is None:
            value = getattr(config, option.dest)
        else:
            given.add(option.dest)
        values[option.dest] = value
    return values, frozenset(given)


def power_model_options():
    """The power-model options both strategies share (new objects)."""
    return [
        cfg.FloatOpt(
            'default_idle_power', default=100.0, min=0,
            help='Power (W) a host draws idle, when no profile matches '
                 'it.'),
        cfg.FloatOpt(
            'default_max_power', default=350.0, min=0,
            help='Power (W) a host draws at 100 % CPU, when no profile '
                 'matches it.'),
        cfg.Opt(
            'host_power_profiles', type=PowerProfiles(), default={},
            help='Per-host power profiles as hostname-or-pattern:idle/max '
                 'pairs in watts, e.g. ``r640-*:95/310,r740-*:120/480``, or '
                 '11 watts at 0, 10, ..., 100 % CPU separated by "/". As an '
                 'audit parameter: ``{"r640-*": [95, 310]}``.'),
    ]


def check_power_model(settings):
    """Parse ``host_power_profiles`` and check idle <= max, in place.

    :raises: :class:`~heatwatcher.exception.InvalidParameter`
    """
    settings.host_power_profiles = {
        str(key): parse_profile('host_power_profiles', key, value)
        for key, value in (settings.host_power_profiles or {}).items()}
    if settings.default_idle_power > settings.default_max_power:
        raise exception.InvalidParameter(
            field='default_idle_power',
            reason='idle power (%s W) is above default_max_power (%s W)'
                   % (settings.default_idle_power,
                      settings.default_max_power))


def parse_profile(field, key, value):
    """``idle/max`` or 11 watts -> tuple of 2 or 11 floats, checked."""
    raw = value
    if isinstance(value, str):
        value = value.replace(';', '/').split('/')
    try:
        watts = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        watts = ()
    if len(watts) not in (2, 11):
        raise exception.InvalidParameter(
            field='%s[%s]' % (field, key),
            reason='expected idle/max watts such as "95/310" or 11 watts at '
                   '0, 10, ..., 100 %% CPU, got %r' % (raw,))
    if watts[0] < 0 or any(b < a for a, b in zip(watts, watts[1:])):
        raise exception.InvalidParameter(
            field='%s[%s]' % (field, key),
            reason='watts must be >= 0 and never decrease with load, got '
                   '%s' % '/'.join('%g' % w for w in watts))
    return watts


def check_patterns(fields, from_audit, names, what='compute node'):
    """Check host patterns against the audit scope.

    A pattern given as an audit parameter that matches no host fails the
    audit (:class:`InvalidParameter`); one from ``watcher.conf`` may be meant
    for hosts outside this audit's scope, so it only yields a note.

    :param fields: ``{field name: patterns}``; a name like ``zones[row1]``
        counts as given in the audit when ``zones`` is in ``from_audit``.
    :returns: notes for the unmatched configured patterns.
    """
    notes = []
    for field, patterns in fields.items():
        problems = hostnames.unmatched(field, patterns, names, what)
        if problems and field.split('[')[0] in from_audit:
            raise exception.InvalidParameter(
                field=field, reason=problems[0].split(': ', 1)[1])
        notes.extend(problems)
    return notes
