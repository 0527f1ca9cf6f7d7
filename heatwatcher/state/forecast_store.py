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
"""Forecast models kept between runs of a continuous audit.

One JSON file per audit in ``[heatwatcher] state_path``, written
atomically (temporary file, then rename). A file that cannot be read is
reported and replaced, never fatal: the models are fitted again.
"""

import dataclasses
import json
import os
import re
import tempfile

VERSION = 1


@dataclasses.dataclass(frozen=True)
class Policy:
    """When saved models serve an audit (the ``[heatwatcher]`` options).

    :ivar state_path: directory of the saved models; None: never saved.
    :ivar retrain_interval: s after which saved models are refitted.
    :ivar predict_only: never refit saved models.
    """

    state_path: str = None
    retrain_interval: int = 86400
    predict_only: bool = False


def _path(directory, name):
    safe = re.sub(r'[^A-Za-z0-9_.-]', '_', name)
    return os.path.join(directory, 'forecast-%s.json' % safe)


def load(directory, name):
    """Return ``(record or None, note or None)``."""
    path = _path(directory, name)
    if not os.path.exists(path):
        return None, None
    try:
        with open(path) as f:
            record = json.load(f)
        if not isinstance(record, dict) or record.get('version') != VERSION:
            raise ValueError('version %r, expected %d'
                             % (record.get('version')
                                if isinstance(record, dict) else None,
                                VERSION))
    except (OSError, ValueError) as exc:
        return None, 'forecast state %s not used: %s' % (path, exc)
    return record, None


def save(directory, name, record):
    """Write ``record``; returns a note on failure, else None."""
    path = _path(directory, name)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.forecast-')
        with os.fdopen(fd, 'w') as f:
            json.dump(dict(record, version=VERSION), f)
        os.replace(tmp, path)
    except OSError as exc:
        return 'forecast state %s not written: %s' % (path, exc)
    return None
