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
"""Slot matrices from an audit's ``instance_cpu_usage`` history.

Pure: ``{uuid: series}`` in (:class:`~heatwatcher.timestamps.Samples` or
``{timestamp: percent}``), the ``(N, D, K)`` matrix
of :mod:`heatwatcher.forecast.models` out, aligned on midnight UTC, with
the day category of each day and the slot where the forecast starts.
"""

import dataclasses
import datetime

import numpy as np

from heatwatcher.estimation import fit
from heatwatcher.forecast import backtest
from heatwatcher import timestamps


# Samples gridded and averaged into slots at once: the matrix is built a
# block of instances at a time, so the temporaries of the gridding and the
# slot means stay bounded (about 100 MB) whatever the number of instances.
CHUNK_SAMPLES = 1 << 22


@dataclasses.dataclass
class History:
    """An audit's load history as slot means.

    :ivar y: ``(N, D, K)``; :ivar cats: ``(D,)``; :ivar now: first flat
        slot without data.
    """

    y: np.ndarray
    cats: np.ndarray
    now: int


def matrix(series, uuids, end, *, window, step, slot_minutes, horizon,
           weekend=backtest.WEEKEND, holidays=()):
    """Build the history of ``uuids`` over ``[end - window, end)``.

    :param end: aware datetime, the audit's "now". The window ends at the
        step boundary at or before it, so that samples stamped at step
        boundaries (as Gnocchi stamps its aggregates) fall in their own
        step and slot whatever second the audit runs at.
    :param window: seconds of history; it begins at the start of the slot
        that holds ``end - window`` (see
        :func:`heatwatcher.timestamps.window_start`), so that the
        first slot is whole. :param step: sample spacing (s), dividing
        ``slot_minutes * 60``. Series sampled every slot (one value a slot,
        stamped at its start) give the same matrix.
    :param horizon: slots after ``now`` the matrix must hold.
    :param holidays: ISO dates counted in the weekend category.
    :returns: :class:`History`
    """
    end = datetime.datetime.fromtimestamp(
        int(end.timestamp() // step) * step, tz=datetime.timezone.utc)
    start = timestamps.window_start(end, window, slot_minutes * 60)
    n_steps = int((end - start).total_seconds() // step)
    y, dates = None, None
    rows_per_chunk = max(1, CHUNK_SAMPLES // max(n_steps, 1))
    for first in range(0, max(len(uuids), 1), rows_per_chunk):
        chunk = uuids[first:first + rows_per_chunk]
        grid = fit.to_grid_many([series.get(uuid) for uuid in chunk],
                                start.timestamp(), step,
                                n_steps).reshape(len(chunk), n_steps)
        means, dates = backtest.day_matrix(grid, start, step, slot_minutes)
        if y is None:
            y = np.empty((len(uuids),) + means.shape[1:])
        y[first:first + len(chunk)] = means
    k = y.shape[2]
    slot = slot_minutes * 60
    now = int((end - dates[0]).total_seconds() // slot)
    flat = y.reshape(len(uuids), -1)
    flat[:, now:] = np.nan                    # a slot still in progress
    extra = -(-max(now + horizon - flat.shape[1], 0) // k)
    if extra:
        y = np.concatenate([y, np.full((len(uuids), extra, k), np.nan)], 1)
        dates = dates + [dates[-1] + datetime.timedelta(days=i + 1)
                         for i in range(extra)]
    return History(y, backtest.categories(dates, weekend, holidays), now)
