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
"""A whole heat_consolidation audit through a running sandbox's Watcher.

Creates one ONESHOT audit (goal ``heat_reuse``, strategy
``heat_consolidation``) with the real ``openstack`` client against a
running ``heatwatcher sandbox`` (real Keystone, Watcher services and
Gnocchi), polls it every 2 s until it ends, and records the wall time from
``audit create`` to the end, the decision-engine worker's peak RSS, and the
action plan's size. With ``--profile``, ``py-spy`` samples the decision
engine's worker during the audit (20 Hz, every thread): the audit thread's
samples are split by the step of the strategy they are in (Watcher's
compute model in ``pre_execute``, the telemetry reads, the forecast, the
heat estimation, the solve, Watcher's planner and the saving of the
actions in ``post_execute``), and the busy samples of the other threads
(Watcher's compute-model collector, the bulk-read threads) are counted.

With ``--repeat N``, N audits run one after the other in the same decision
engine, as the runs of a CONTINUOUS audit do: from the second on, the
history reads go through the series the engine kept (``[heatwatcher]
telemetry_cache``) and read only what is new.

Usage: ``python tools/bench/watcher_audit.py --sandbox DIR [-p KEY=VALUE
...] [--profile] [--repeat N] [--label TEXT] [--note TEXT] [--out DIR]``.
Each run is added to ``<out>/watcher_audit.{json,md}``.
"""

import argparse
import collections
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

import gnocchi_reads  # tools/bench, the script's directory
import results

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from heatwatcher.sandbox import layout as sandbox_layout  # noqa: E402

NAME = 'watcher_audit'
SAMPLE_RATE = 20
POLL_SECONDS = 2
ENDED = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUSPENDED')
# The audit thread's frames (the innermost one counts): what each step is.
STEPS = collections.OrderedDict([
    ('pre_execute', 'Watcher compute model'),
    ('_pre_execute', 'Watcher compute model'),
    ('read_telemetry', 'telemetry (instance CPU means)'),
    ('instance_series', 'forecast: history read'),
    ('plan_loads', 'forecast'),
    ('host_series', 'heat: host series read'),
    ('estimate_heat', 'heat estimation'),
    ('build_problem', 'problem'),
    ('optimise', 'solve'),
    ('plan_actions', 'actions'),
    ('check_sequence', 'actions'),
    ('report', 'report'),
    ('sequence', 'planner: sequencing'),
    ('post_execute', 'Watcher planner: saving the actions'),
])
# Innermost functions where a thread waits (for a lock, a socket, a queue).
IDLE = frozenset([
    'wait', '_wait_for_tstate_lock', 'select', 'poll', 'sleep', 'acquire',
    'recv_into', 'readinto', 'accept', 'get', 'drain_events', 'read',
    'recv', '_recv', '_wait_forever', 'join', '_read', 'wait_for'])


def sandbox_env(directory):
    """The environment with the sandbox's admin ``OS_*`` credentials."""
    layout, _services = sandbox_layout.Layout.load(directory)
    return dict(os.environ, **layout.credentials())


def worker_pid(directory):
    """The decision engine's worker: the child of its recorded master."""
    with open(os.path.join(directory, 'pids',
                           'watcher-decision-engine.pid')) as f:
        master = int(f.read().split()[0])
    workers = [pid for pid in gnocchi_reads.process_tree(master)
               if pid != master]
    return workers[0] if workers else master


def peak_rss_mib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM'):
                return round(int(line.split()[1]) / 1024.0, 1)
    return None


def openstack(env, *args):
    return subprocess.run(('openstack',) + args, check=True, env=env,
                          capture_output=True, text=True).stdout


def breakdown(raw_path):
    """Seconds per step of the audit thread, and other threads' busy s."""
    stacks = []
    with open(raw_path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(' ')
            if stack:
                stacks.append((stack.split(';'), int(count)))
    per_thread = collections.Counter()
    for frames, count in stacks:
        if any('do_execute' in frame or 'pre_execute' in frame
               for frame in frames):
            per_thread[frames[0]] += count
    if not per_thread:
        return None
    audit_thread = per_thread.most_common(1)[0][0]
    steps, busy = collections.Counter(), collections.Counter()
    for frames, count in stacks:
        names = [frame.split(' ')[0].split('.')[-1] for frame in frames]
        if frames[0] == audit_thread:
            if '_wait_for_work' in names:
                continue                # the worker before and after
            inner = [name for name in reversed(names) if name in STEPS]
            steps[STEPS[inner[0]] if inner else 'other'] += count
        elif names[-1] not in IDLE:
            kind = ('Watcher compute-model collector'
                    if any('collector' in frame for frame in frames)
                    else 'gnocchi bulk reads'
                    if 'gnocchi-bulk' in frames[0] else 'other')
            busy[kind] += count
    return {
        'audit_thread_seconds': round(
            sum(steps.values()) / SAMPLE_RATE, 1),
        'steps': {step: round(count / SAMPLE_RATE, 1)
                  for step, count in steps.most_common()},
        'other_threads_busy_seconds': {
            kind: round(count / SAMPLE_RATE, 1)
            for kind, count in busy.most_common()}}


def run_audit(args):
    env = sandbox_env(args.sandbox)
    pid = worker_pid(args.sandbox)
    rss_before = peak_rss_mib(pid)
    spy, raw_path = None, None
    if args.profile:
        raw_path = os.path.join(tempfile.mkdtemp(), 'audit.raw')
        spy = subprocess.Popen(
            ['py-spy', 'record', '-p', str(pid), '-r', str(SAMPLE_RATE),
             '--threads', '--idle', '-f', 'raw', '-o', raw_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
    parameters = ['-p', 'target_heat_rate=250'] + [
        option for parameter in args.parameter
        for option in ('-p', parameter)]
    began = time.monotonic()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    uuid = openstack(env, 'optimize', 'audit', 'create', '-g', 'heat_reuse',
                     '-s', 'heat_consolidation', '--name',
                     'bench-%d' % time.time(), *parameters, '-f', 'value',
                     '-c', 'UUID').strip()
    while True:
        audit = json.loads(openstack(env, 'optimize', 'audit', 'show', uuid,
                                     '-f', 'json'))
        if audit.get('State') in ENDED:
            break
        time.sleep(POLL_SECONDS)
    wall = time.monotonic() - began
    row = {'measured_at': started_at.isoformat(timespec='seconds'),
           'sandbox': args.sandbox, 'parameters': parameters[1::2],
           'label': args.label, 'note': args.note, 'audit': uuid,
           'state': audit.get('State'),
           'status_message': audit.get('Status Message'),
           'wall_seconds': round(wall, 1),
           'load_average_after': os.getloadavg()[0],
           'engine_peak_rss_mib_before': rss_before,
           'engine_peak_rss_mib': peak_rss_mib(pid)}
    plans = json.loads(openstack(env, 'optimize', 'actionplan', 'list',
                                 '--audit', uuid, '-f', 'json'))
    if plans:
        actions = json.loads(openstack(
            env, 'optimize', 'action', 'list', '--action-plan',
            plans[0]['UUID'], '--limit', '0', '-f', 'json'))
        row['actions'] = dict(collections.Counter(
            action.get('Action', '?') for action in actions))
    if spy:
        time.sleep(1)
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=120)
        row['profile'] = breakdown(raw_path)
    return row


def markdown(runs, earlier=None):
    """The runs' tables; ``earlier``: Markdown kept from before the tool."""
    lines = [
        '# Whole audits through Watcher against the sandbox\'s Gnocchi', '',
        'Generated by `tools/bench/watcher_audit.py` against a running '
        '`heatwatcher sandbox` (real Keystone, Watcher API, decision engine '
        'and applier over RabbitMQ, real Gnocchi, emulated Nova): one '
        '`openstack optimize audit create -g heat_reuse -s '
        'heat_consolidation -p target_heat_rate=250` polled every 2 s until '
        'it ends. "wall s": from `audit create` to the end, client start-up '
        'included. Rows with a breakdown were sampled by py-spy (20 Hz) in '
        'the decision engine\'s worker: seconds of the audit thread by '
        'step (waiting included: a read waits for Gnocchi), and busy '
        'seconds of the other threads (summed over threads; they share '
        'the interpreter with the audit). Everything runs on the same 2 '
        'CPUs.', '',
        '| measured | label | wall s | state | actions | engine peak RSS '
        'MiB | load after |',
        '|---|---|---:|---|---|---:|---:|']
    for run in runs:
        actions = ', '.join('%d %s' % (count, kind) for kind, count in
                            sorted((run.get('actions') or {}).items()))
        lines.append('| %s | %s | %.1f | %s | %s | %s | %.1f |' % (
            run['measured_at'], run.get('label') or '', run['wall_seconds'],
            run['state'], actions, run['engine_peak_rss_mib'],
            run['load_average_after']))
    for run in runs:
        profile = run.get('profile')
        if not profile and not run.get('note'):
            continue
        lines += ['', '## %s, %s' % (run['measured_at'],
                                     run.get('label') or '')]
        if run.get('note'):
            lines += ['', run['note']]
        if profile:
            lines += ['', '| audit thread step | s |', '|---|---:|']
            lines += ['| %s | %.1f |' % item
                      for item in profile['steps'].items()]
            lines.append('| **audit thread, total** | %.1f |'
                         % profile['audit_thread_seconds'])
            lines += ['', '| other threads, busy | s |', '|---|---:|']
            lines += ['| %s | %.1f |' % item for item in
                      profile['other_threads_busy_seconds'].items()]
    if earlier:
        lines += ['', earlier.rstrip()]
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sandbox', required=True, metavar='DIR')
    parser.add_argument('-p', '--parameter', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='an audit parameter besides target_heat_rate')
    parser.add_argument('--profile', action='store_true',
                        help='sample the decision engine with py-spy')
    parser.add_argument('--repeat', type=int, default=1, metavar='N',
                        help='audits one after the other (default 1)')
    parser.add_argument('--label', help='which code and setting ran')
    parser.add_argument('--note', help='a paragraph about this run')
    parser.add_argument('--render-only', action='store_true',
                        help='run nothing: rewrite the Markdown')
    results.add_out_argument(parser)
    args = parser.parse_args(argv)
    previous = os.path.join(args.out, NAME + '.json')
    kept = {'runs': []}
    if os.path.exists(previous):
        with open(previous) as f:
            kept = json.load(f)
    runs = kept['runs']
    label = args.label
    audits = 0 if args.render_only else args.repeat
    for number in range(1, audits + 1):
        if args.repeat > 1:
            args.label = '%s (audit %d of %d)' % (label or '', number,
                                                  args.repeat)
        row = run_audit(args)
        row.update(machine=platform.machine(), cpus=os.cpu_count())
        if number > 1:
            row['note'] = None   # the first run's paragraph covers them
        print(json.dumps(row, indent=1))
        runs.append(row)
    results.write(args.out, NAME, dict(kept, runs=runs),
                  markdown(runs, kept.get('earlier')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
