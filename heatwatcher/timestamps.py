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
"""Datasource timestamps (ISO text, datetimes or epoch numbers) to epoch s."""

import datetime
import functools


def epoch(ts):
    """Seconds since the epoch; naive datetimes and text are UTC."""
    if isinstance(ts, (int, float)):
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
