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
"""What every heatwatcher strategy's settings share.

A strategy declares ``SETTINGS``: pairs of an oslo.config option and the
JSON schema of the same setting as an audit parameter. Each setting is then
an option of ``[watcher_strategies.<name>]`` and a nullable audit parameter:
``null`` (left out) means "use the option".
"""

import fnmatch

from heatwatcher import exception


def config_opts(settings):
    return [opt for opt, _ in settings]


def schema(settings, strategy_name):
    """JSON schema of the audit parameters (``null`` = the option)."""
    props = {}
    for opt, sub in settings:
        extra = {k: v for k, v in sub.items() if k != 'type'}
        if 'enum' in extra:
            extra['enum'] = extra['enum'] + [None]
        props[opt.dest] = {
            'type': [sub['type'], 'null'],
            **extra,
            'default': None,
            'description': '%s Null uses [watcher_strategies.%s] %s '
                           '(default %r).' % (opt.help, strategy_name,
                                              opt.dest, opt.default),
        }
    return {'type': 'object', 'properties': props,
            'additionalProperties': False}


def merge(settings, config, params):
    """Audit ``params`` over ``config`` options.

    :returns: ``(values, names given as parameters)``
    """
    values, given = {}, set()
    for opt, _ in settings:
        value = params.get(opt.dest) if params else None
        if value is None:
            value = getattr(config, opt.dest)
        else:
            given.add(opt.dest)
        values[opt.dest] = value
    return values, frozenset(given)


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


def match(patterns, hostname):
    """First key of ``patterns`` naming ``hostname``: exact, then pattern."""
    if hostname in patterns:
        return hostname
    for pattern in sorted(patterns):
        if fnmatch.fnmatchcase(hostname, pattern):
            return pattern
    return None


def check_patterns(fields, from_audit, hostnames, what='compute node'):
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
        problems = unmatched_patterns(field, patterns, hostnames, what)
        if problems and field.split('[')[0] in from_audit:
            raise exception.InvalidParameter(
                field=field, reason=problems[0].split(': ', 1)[1])
        notes.extend(problems)
    return notes


def unmatched_patterns(field, patterns, hostnames, what='compute node'):
    """Messages for each of ``patterns`` that names none of ``hostnames``."""
    out = []
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(h, pattern) for h in hostnames):
            out.append('%s: %r matches no %s in the audit scope '
                       '(%d nodes: %s)'
                       % (field, pattern, what, len(hostnames),
                          ', '.join(sorted(hostnames)[:10])
                          + (', ...' if len(hostnames) > 10 else '')))
    return out
