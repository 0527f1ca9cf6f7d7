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
"""Hostname patterns, as every setting that names hosts uses them.

A pattern is a hostname or an ``fnmatch`` pattern (``loop-*``); an exact
hostname wins over a pattern, and among patterns the first in sorted order.
Pure: no Watcher object, no configuration.
"""

import fnmatch


def match(patterns, hostname):
    """First key of ``patterns`` naming ``hostname``: exact, then pattern.

    :param patterns: a mapping or a collection of patterns.
    :returns: the matching key, or None.
    """
    if hostname in patterns:
        return hostname
    for pattern in sorted(patterns):
        if fnmatch.fnmatchcase(hostname, pattern):
            return pattern
    return None


def matches_any(patterns, hostname):
    """True when one of ``patterns`` names ``hostname``."""
    return match(patterns, hostname) is not None


def unmatched(field, patterns, hostnames, what='compute node'):
    """A message for each of ``patterns`` that names none of ``hostnames``.

    :param field: the setting's name, used in the message.
    :returns: ``["<field>: '<pattern>' matches no <what> in the audit
        scope (<count> nodes: <first ten names>)", ...]``
    """
    messages = []
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in hostnames):
            listed = ', '.join(sorted(hostnames)[:10])
            if len(hostnames) > 10:
                listed += ', ...'
            messages.append('%s: %r matches no %s in the audit scope '
                            '(%d nodes: %s)'
                            % (field, pattern, what, len(hostnames), listed))
    return messages
