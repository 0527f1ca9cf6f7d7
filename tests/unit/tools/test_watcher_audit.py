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
"""tools/bench/watcher_audit.py: the split of py-spy's samples by step."""

import tempfile
import unittest

from tests.unit import tools

watcher_audit = tools.bench_module('watcher_audit')
AUDIT = 'thread (11): Thread-20'
WORKER = ('run (futurist/_thread.py:1);'
          'AuditEndpoint.do_trigger_audit (watcher/x.py:1);')
# py-spy's raw format: frames from the outermost, then the sample count
RAW = '\n'.join([
    # a read under plan_loads counts as the read, not as the forecast
    AUDIT + ';' + WORKER + 'HeatwatcherStrategy.do_execute (h.py:1);'
    'plan_loads (h.py:2);instance_series (c.py:3);'
    'SocketIO.readinto (socket.py:706) 40',
    AUDIT + ';' + WORKER + 'HeatwatcherStrategy.do_execute (h.py:1);'
    'plan_loads (h.py:2);fit (p.py:4) 10',
    AUDIT + ';' + WORKER + 'BaseStrategy._pre_execute (b.py:1);'
    'BaseStrategy.compute_model (b.py:2) 20',
    # the thread waiting for work before and after the audit: left out
    AUDIT + ';run (futurist/_thread.py:1);'
    'ThreadWorker._wait_for_work (futurist/_thread.py:2);'
    'Condition.wait (threading.py:331) 500',
    # other threads: busy or idle
    'thread (12): Thread-21;NovaClusterDataModelCollector.execute '
    '(watcher/collector/nova.py:1);_showwarnmsg_impl (warnings.py:30) 30',
    'thread (13): gnocchi-bulk_0;_fetch (g.py:1);'
    'HTTPResponse.read (http.py:1);SocketIO.readinto (socket.py:706) 60',
    'thread (13): gnocchi-bulk_0;_fetch (g.py:1);loads (json.py:1) 8',
])


class TestBreakdown(unittest.TestCase):

    def test_seconds_by_innermost_step_and_busy_other_threads(self):
        with tempfile.NamedTemporaryFile('w', suffix='.raw') as raw:
            raw.write(RAW + '\n')
            raw.flush()
            got = watcher_audit.breakdown(raw.name)
        self.assertEqual({'forecast: history read': 2.0, 'forecast': 0.5,
                          'Watcher compute model': 1.0}, got['steps'])
        self.assertEqual(3.5, got['audit_thread_seconds'])
        self.assertEqual({'Watcher compute-model collector': 1.5,
                          'gnocchi bulk reads': 0.4},
                         got['other_threads_busy_seconds'])


if __name__ == '__main__':
    unittest.main()
