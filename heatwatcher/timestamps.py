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
"""Datasource timestamps (ISO text, datetimes or epoch numbers) to epoch s.

Watcher's datasources return a series as ``{timestamp: value}``. The
telemetry layer turns it once into :class:`Samples` (numpy arrays), with
:func:`samples_many` parsing the ISO text of all the series of a read in one
vectorised pass; the stages after it work on the arrays.
"""

import datetime
import functools
import itertools
import typing

import numpy as np

# Character positions of the fixed part of 'YYYY-MM-DDTHH:MM:SS'.
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_SEPARATORS = ((4, '-'), (7, '-'), (13, ':'), (16, ':'))
_FIXED = 19
# Timestamps parsed at once: bounds the temporary arrays (~150 MB).
_CHUNK = 1 << 20


class Samples(typing.NamedTuple):
    """One series as arrays, sorted by time (ties keep a stable order).

    :ivar times: ``(n,)`` int64, seconds since the epoch (UTC; a sub-second
        part is dropped).
    :ivar values: ``(n,)`` float64; NaN where the datasource gave no
        number.
    """

    times: np.ndarray
    values: np.ndarray

    def __len__(self):
        return len(self.times)


EMPTY = Samples(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=float))


def window_start(end, window, slot):
    """Start of the slot that holds ``end - window``.

    :param end: aware datetime; :param window: s; :param slot: s, slots
        counted from midnight UTC (``slot`` divides a day).
    :returns: aware UTC datetime, a multiple of ``slot`` since the epoch.
    """
    first = int((end - datetime.timedelta(seconds=window)).timestamp())
    return datetime.datetime.fromtimestamp(first // slot * slot,
                                           tz=datetime.timezone.utc)


def epoch(ts):
    """Seconds since the epoch; naive datetimes and text are UTC."""
    if isinstance(ts, (int, float, np.integer, np.floating)):
        return float(ts)
    if isinstance(ts, datetime.datetime):
        t = ts
    else:
        return _epoch_text(str(ts))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


@functools.lru_cache(maxsize=1 << 16)
def _epoch_text(ts):
    # Series of many resources share their timestamps: parse each once.
    return epoch(datetime.datetime.fromisoformat(ts.replace('Z', '+00:00')))


def _text_epochs(texts):
    """Vectorised parse of ISO 8601 text.

    Handles ``YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]``; a naive
    text is UTC.

    :param texts: ``(n,)`` numpy unicode array.
    :returns: ``((n,) int64 epoch s, (n,) bool parsed)``; rows not in that
        layout are left for the caller.
    """
    count = len(texts)
    width = texts.dtype.itemsize // 4
    if count == 0 or width < _FIXED:
        return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=bool)
    codes = np.ascontiguousarray(texts).view(np.uint32).reshape(count, width)
    lengths = np.char.str_len(texts).astype(np.int64)
    rows = np.arange(count)

    def char_at(position):
        return codes[rows, np.clip(position, 0, width - 1)]

    def digit(column):
        return codes[:, column].astype(np.int64) - ord('0')

    digits = codes[:, list(_DIGITS)].astype(np.int64) - ord('0')
    parsed = (lengths >= _FIXED) & np.all((digits >= 0) & (digits <= 9), 1)
    for position, separator in _SEPARATORS:
        parsed &= codes[:, position] == ord(separator)
    parsed &= (codes[:, 10] == ord('T')) | (codes[:, 10] == ord(' '))
    last = char_at(lengths - 1)
    zulu = (last == ord('Z')) | (last == ord('z'))
    sign_char = char_at(lengths - 6)
    offset_digits = np.stack([char_at(lengths - back) for back in
                              (5, 4, 2, 1)], 1).astype(np.int64) - ord('0')
    has_offset = (~zulu & ((sign_char == ord('+')) | (sign_char == ord('-')))
                  & (char_at(lengths - 3) == ord(':'))
                  & np.all((offset_digits >= 0) & (offset_digits <= 9), 1)
                  & (lengths >= _FIXED + 6))
    body = lengths - np.where(zulu, 1, np.where(has_offset, 6, 0))
    if width > _FIXED + 1:
        columns = np.arange(width)[None, :]
        fraction = (columns > _FIXED) & (columns < body[:, None])
        fraction_ok = ~np.any(fraction & ((codes < ord('0'))
                                          | (codes > ord('9'))), 1)
        fraction_ok &= (body == _FIXED) | (
            (body > _FIXED + 1) & (codes[:, _FIXED] == ord('.')))
    else:
        fraction_ok = body == _FIXED
    parsed &= fraction_ok

    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 \
        + digits[:, 3]
    month = digit(5) * 10 + digit(6)
    day = digit(8) * 10 + digit(9)
    hour, minute, second = (digit(11) * 10 + digit(12),
                            digit(14) * 10 + digit(15),
                            digit(17) * 10 + digit(18))
    parsed &= (month >= 1) & (month <= 12) & (day >= 1) & (hour <= 23) \
        & (minute <= 59) & (second <= 59) & (year >= 1)
    months = np.where(parsed, (year - 1970) * 12 + month - 1, 0)
    month_start = months.astype('datetime64[M]').astype(
        'datetime64[D]').astype(np.int64)
    next_month = (months + 1).astype('datetime64[M]').astype(
        'datetime64[D]').astype(np.int64)
    parsed &= day <= next_month - month_start
    offset = np.where(has_offset, np.where(sign_char == ord('-'), -1, 1) * (
        (offset_digits[:, 0] * 10 + offset_digits[:, 1]) * 3600
        + (offset_digits[:, 2] * 10 + offset_digits[:, 3]) * 60), 0)
    seconds = ((month_start + day - 1) * 86400 + hour * 3600 + minute * 60
               + second - offset)
    return np.where(parsed, seconds, 0), parsed


def parse(stamps):
    """Epoch seconds of many timestamps at once.

    ISO text in the usual layout (see :func:`_text_epochs`) is parsed with
    numpy; epoch numbers are floored; datetimes and unusual text go
    through :func:`epoch` one by one.

    :param stamps: sequence of ``n`` timestamps (ISO text, datetimes or
        epoch numbers, mixed or not).
    :returns: ``(n,)`` int64 seconds since the epoch.
    :raises ValueError: for text that is not a timestamp.
    """
    if isinstance(stamps, np.ndarray) and stamps.dtype.kind in 'iuf':
        return np.floor(stamps).astype(np.int64)
    stamps = list(stamps)
    if not stamps:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([_parse_chunk(stamps[begin:begin + _CHUNK])
                           for begin in range(0, len(stamps), _CHUNK)])


def _parse_chunk(stamps):
    array = np.array(stamps)
    if array.ndim == 1 and array.dtype.kind in 'iuf':
        return np.floor(array).astype(np.int64)
    if array.ndim == 1 and array.dtype.kind == 'O':
        # datetimes print as 'YYYY-MM-DD HH:MM:SS[.f][+HH:MM]'
        array = array.astype(str)
    if array.ndim == 1 and array.dtype.kind == 'U':
        seconds, parsed = _text_epochs(array)
    else:
        seconds = np.zeros(len(stamps), dtype=np.int64)
        parsed = np.zeros(len(stamps), dtype=bool)
    for position in np.flatnonzero(~parsed):
        seconds[position] = int(np.floor(epoch(stamps[position])))
    return seconds


def _values(values):
    """``(n,)`` float64 of datasource values; NaN for non-numbers."""
    try:
        return np.array(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return np.array([_number(value) for value in values], dtype=float)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def samples_many(series_list):
    """Many ``{timestamp: value}`` series to :class:`Samples`, in one pass.

    See :func:`from_columns`, which this calls with each dict's keys and
    values.

    :param series_list: sequence of ``{timestamp: value}`` dicts,
        :class:`Samples` (kept as they are) or None (empty).
    :returns: list of :class:`Samples`, one per series.
    """
    dicts = [series for series in series_list
             if series is not None and not isinstance(series, Samples)]
    converted = iter(from_columns([list(series) for series in dicts],
                                  [list(series.values())
                                   for series in dicts]))
    out = []
    for series in series_list:
        if series is None:
            out.append(EMPTY)
        elif isinstance(series, Samples):
            out.append(series)
        else:
            out.append(next(converted))
    return out


def from_columns(stamp_lists, value_lists):
    """Series given as timestamp and value columns to :class:`Samples`.

    Series that list the same timestamps (as the resources of one read
    usually do) share one parse; the distinct timestamp lists are parsed
    together (see :func:`parse`). Each series is sorted by time; samples of
    the same second sort by their text (the order a sort of
    ``(seconds, text, value)`` tuples gives). The ``times`` arrays may be
    shared between series: do not modify them in place.

    :param stamp_lists: ``S`` sequences of timestamps (lists or 1-D
        arrays).
    :param value_lists: ``S`` sequences of values, the same lengths.
    :returns: list of ``S`` :class:`Samples`.
    """
    key_lists, block_of, seen = [], [], {}
    for stamps in stamp_lists:
        keys = stamps.tolist() if isinstance(stamps, np.ndarray) \
            else list(stamps)
        signature = (len(keys), keys[0], keys[-1]) if keys else ()
        for known_keys, block in seen.get(signature, ()):
            if known_keys == keys:
                break
        else:
            block = len(key_lists)
            key_lists.append(keys)
            seen.setdefault(signature, []).append((keys, block))
        block_of.append(block)
    block_lengths = np.array([len(keys) for keys in key_lists], dtype=int)
    block_times = np.split(parse(itertools.chain.from_iterable(key_lists)),
                           np.cumsum(block_lengths)[:-1])
    block_sorted = [_sort_block(times, keys)
                    for times, keys in zip(block_times, key_lists)]
    lengths = [len(values) for values in value_lists]
    all_values = np.split(_values(np.concatenate(
        [np.asarray(values, dtype=object).reshape(-1)
         for values in value_lists]) if lengths else []),
        np.cumsum(lengths)[:-1])
    out = []
    for block, values in zip(block_of, all_values):
        times, order = block_sorted[block]
        out.append(Samples(times, values if order is None else values[order]))
    return out


def _sort_block(times, keys):
    """``(sorted times, order or None if already sorted)`` of one list."""
    steps = np.diff(times)
    if np.all(steps > 0):
        return times, None
    order = np.argsort(times, kind='stable')
    if np.any(np.diff(times[order]) == 0):
        try:
            order = np.array(sorted(range(len(keys)), key=lambda position: (
                times[position], keys[position])), dtype=np.int64)
        except TypeError:  # text beside datetimes: keep the stable order
            pass
    return times[order], order


def samples(series):
    """One ``{timestamp: value}`` series (or :class:`Samples`, or None)."""
    return samples_many([series])[0]


def from_arrays(times, values):
    """:class:`Samples` of ``(n,)`` times (epoch s) and values, sorted."""
    times = parse(np.asarray(times)) if len(times) else EMPTY.times
    values = np.asarray(values, dtype=float).reshape(-1)
    if len(times) > 1 and np.any(np.diff(times) < 0):
        order = np.argsort(times, kind='stable')
        times, values = times[order], values[order]
    return Samples(times, values)
