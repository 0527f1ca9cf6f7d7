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
"""Read and validate a snapshot file (JSON, gzip-compressed JSON or YAML).

Validation happens here, in one place: first the JSON Schema shipped beside
this module (``snapshot-v1.schema.json``), then the checks a schema cannot
express (unique names, references between items, series that end at the
snapshot's time). Every error names the item and the field.
"""

import datetime
import gzip
import json
import os

import jsonschema
import yaml

from heatwatcher import exception

SCHEMA_PATH = os.path.join(os.path.dirname(__file__),
                           'snapshot-v1.schema.json')


class SnapshotError(exception.HeatwatcherException):
    """The snapshot file cannot be used."""

    msg_fmt = '%(path)s: %(reason)s'


def schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def _parse_time(value):
    parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    return (parsed if parsed.tzinfo
            else parsed.replace(tzinfo=datetime.timezone.utc))


def _where(doc, path):
    """``hosts[3] (compute-4).vcpus`` for a jsonschema error path."""
    location, node = '', doc
    for part in path:
        if isinstance(part, int):
            location += '[%d]' % part
            node = node[part] if isinstance(node, list) else None
            if isinstance(node, dict):
                label = node.get('name') or node.get('uuid')
                if isinstance(label, str):
                    location += ' (%s)' % label
        else:
            location += ('.' if location else '') + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return location or 'snapshot'


def _schema_errors(doc):
    validator = jsonschema.Draft7Validator(
        schema(), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc),
                    key=lambda error: (list(map(str, error.absolute_path)),
                                       error.message))
    for error in errors:
        yield '%s: %s' % (_where(doc, error.absolute_path), error.message)


def _semantic_errors(doc):
    hosts = doc['hosts']
    names = {}
    for index, host in enumerate(hosts):
        if host['name'] in names:
            yield 'hosts[%d] (%s).name: duplicate of hosts[%d]' % (
                index, host['name'], names[host['name']])
        names.setdefault(host['name'], index)
    uuids = {}
    for index, instance in enumerate(doc['instances']):
        where = 'instances[%d] (%s)' % (index, instance['uuid'])
        if instance['uuid'] in uuids:
            yield '%s.uuid: duplicate of instances[%d]' % (
                where, uuids[instance['uuid']])
        uuids.setdefault(instance['uuid'], index)
        if instance['host'] not in names:
            yield '%s.host: %r is not a host of the snapshot' % (
                where, instance['host'])
    now = _parse_time(doc['captured_at'])
    for metric, series_by_key in (doc.get('metrics') or {}).items():
        known = uuids if metric.startswith('instance_') else names
        kind = 'instance uuid' if metric.startswith('instance_') \
            else 'host name'
        for key, series in series_by_key.items():
            where = 'metrics.%s[%s]' % (metric, key)
            if key not in known:
                yield '%s: %r is not a known %s' % (where, key, kind)
                continue
            end = _parse_time(series['start']) + datetime.timedelta(
                seconds=series['step'] * len(series['values']))
            if abs((end - now).total_seconds()) > series['step']:
                yield ('%s: series ends at %s, expected captured_at %s '
                       '(within one step)' % (where, end.isoformat(),
                                              now.isoformat()))


def parse(text, path='snapshot'):
    """Parse and validate ``text``; return the document with defaults."""
    if not text.strip():
        raise SnapshotError(path=path, reason='the file is empty')
    try:
        doc = json.loads(text)
    except ValueError as json_err:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            raise SnapshotError(path=path, reason='not JSON or YAML: %s'
                                % json_err)
        if not isinstance(doc, dict):
            raise SnapshotError(path=path, reason='not JSON or YAML: %s'
                                % json_err)
    if not isinstance(doc, dict):
        raise SnapshotError(path=path, reason='expected an object with '
                            'version, captured_at, hosts and instances, '
                            'got %s' % type(doc).__name__)
    errors = list(_schema_errors(doc))
    if not errors:
        errors = list(_semantic_errors(doc))
    if errors:
        more = ' (and %d more)' % (len(errors) - 1) if len(errors) > 1 \
            else ''
        raise SnapshotError(path=path, reason=errors[0] + more)
    _fill_defaults(doc)
    return doc


def _fill_defaults(doc):
    properties = schema()['properties']
    for kind in ('hosts', 'instances'):
        item_props = properties[kind]['items']['properties']
        for item in doc[kind]:
            for field, spec in item_props.items():
                if 'default' in spec:
                    item.setdefault(field, spec['default'])
    for host in doc['hosts']:
        host.setdefault('uuid', host['name'])
    doc.setdefault('metrics', {})
    doc.setdefault('options', {})


def load(path):
    """Read ``path`` (``.json``, ``.json.gz``, ``.yaml``) and validate it.

    :raises: :class:`SnapshotError` naming the item and field at fault.
    """
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as exc:
        raise SnapshotError(path=path, reason=exc.strerror or str(exc))
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SnapshotError(path=path, reason='bad gzip data: %s' % exc)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise SnapshotError(path=path, reason='not UTF-8 text: %s' % exc)
    return parse(text, path)


def dump(doc, path):
    """Write ``doc`` as JSON (gzip-compressed if ``path`` ends in .gz)."""
    data = json.dumps(doc, separators=(',', ':'), sort_keys=False).encode()
    if path.endswith('.gz'):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    with open(path, 'wb') as f:
        f.write(data)
