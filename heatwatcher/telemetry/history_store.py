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
"""Kept series on disk, so that a restarted decision engine resumes them.

One file per read (datasource, resource type, metric, granularity,
resampling) in ``[heatwatcher] state_path``: ``series-<digest>.npz``, a
NumPy archive without pickled objects, written to a temporary file and
renamed, so that a reader never sees half a file. It holds:

- ``version`` and ``read_key`` (the read's key as text), checked on load:
  a file of another version or another read is not used;
- ``resources`` ``(R,)`` text keys (instance uuids, hostnames);
- ``starts``, ``ends``, ``lengths`` ``(R,)`` int64: each series' window
  start and last read end (epoch s) and its number of points;
- ``times`` ``(P,)`` int64 epoch s and ``values`` ``(P,)`` float64, the
  series one after the other.

A file that cannot be read is reported by the caller and replaced at the
next save, never fatal: those series are read whole again.
"""

import hashlib
import os
import tempfile

import numpy as np

VERSION = 1


class StoreError(Exception):
    """A kept-series file that cannot be used (the reason)."""


def path(directory, read_key):
    """The file of ``read_key`` (any ``repr``-able key) in ``directory``."""
    digest = hashlib.sha256(repr(read_key).encode()).hexdigest()[:20]
    return os.path.join(directory, 'series-%s.npz' % digest)


def save(directory, read_key, series):
    """Write ``series`` of ``read_key``, replacing its file.

    :param series: ``{resource key: (times (n,) int64, values (n,)
        float64, window start s, last read end s)}``.
    :returns: the file's path.
    """
    os.makedirs(directory, exist_ok=True)
    keys = sorted(series)
    times = [np.asarray(series[key][0], dtype=np.int64) for key in keys]
    values = [np.asarray(series[key][1], dtype=np.float64) for key in keys]
    target = path(directory, read_key)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.series-',
                                         suffix='.npz')
    try:
        with os.fdopen(handle, 'wb') as out:
            np.savez(
                out, version=np.int64(VERSION), read_key=repr(read_key),
                resources=np.array(keys, dtype=str),
                starts=np.array([series[key][2] for key in keys],
                                dtype=np.int64),
                ends=np.array([series[key][3] for key in keys],
                              dtype=np.int64),
                lengths=np.array([len(one) for one in times],
                                 dtype=np.int64),
                times=(np.concatenate(times) if times
                       else np.zeros(0, np.int64)),
                values=(np.concatenate(values) if values
                        else np.zeros(0, np.float64)))
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return target


def load(directory, read_key):
    """The series saved for ``read_key``, or None if there is no file.

    :returns: ``{resource key: (times, values, window start s, last read
        end s)}``, as :func:`save` takes them.
    :raises StoreError: when the file cannot be used, with the reason.
    """
    source = path(directory, read_key)
    if not os.path.exists(source):
        return None
    try:
        with np.load(source, allow_pickle=False) as archive:
            version = int(archive['version'])
            if version != VERSION:
                raise StoreError('version %d, expected %d'
                                 % (version, VERSION))
            if str(archive['read_key']) != repr(read_key):
                raise StoreError('it holds another read (%s)'
                                 % archive['read_key'])
            keys = archive['resources'].tolist()
            starts, ends = archive['starts'], archive['ends']
            lengths = archive['lengths']
            times, values = archive['times'], archive['values']
    except StoreError:
        raise
    except Exception as exc:   # truncated, not an archive, missing arrays
        raise StoreError('%s: %s' % (type(exc).__name__, exc))
    if not (len(keys) == len(starts) == len(ends) == len(lengths)
            and int(lengths.sum()) == len(times) == len(values)
            and (lengths >= 0).all()):
        raise StoreError('its arrays do not match (%d resources, %d points)'
                         % (len(keys), len(times)))
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return {key: (times[bounds[index]:bounds[index + 1]],
                  values[bounds[index]:bounds[index + 1]],
                  int(starts[index]), int(ends[index]))
            for index, key in enumerate(keys)}
