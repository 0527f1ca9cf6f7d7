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
"""Bulk reads of the sandbox's real Gnocchi among resources it cannot read.

One instance whose ``cpu`` metric Gnocchi cannot read at 300 s makes it
refuse every aggregates request that includes it: the bulk read leaves that
instance out, with a note, and still reads the others as Watcher does. An
instance without the metric and one without measures yet are no data, not
failures (see :mod:`tests.integration.gnocchi_probe`).
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_bulk_read_leaves_out_what_gnocchi_refuses(sandbox):
    result = subprocess.run(
        [sys.executable, '-m', 'tests.integration.gnocchi_probe',
         sandbox.dir], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(probe['real']) == 5, probe
    assert probe['read'] == probe['real'], probe
    assert probe['same_as_watcher'] == {key: True for key in probe['real']}
    notes = probe['notes']
    assert notes[0].startswith('instance_cpu_usage: read in bulk from '
                               'Gnocchi (aggregates API, '), notes
    assert notes[1:] == [
        'instance_cpu_usage: 1 instances left out of the bulk read, whose '
        'metric Gnocchi cannot read at this granularity and aggregation '
        '(Metrics cannot be aggregated: Granularities are missing)',
        'instance_cpu_usage: no data for 3 of 8 instances'], notes
    # an instance without the metric, alone in its request: no data
    assert probe['alone'] == [], probe
    assert probe['alone_notes'][1:] == [
        'instance_cpu_usage: no data for 1 of 1 instances'], probe
