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
"""Capacity-safe ordering of a plan's actions.

Pure: plain action dicts and numbers in, an ordered list with parents out.

* **Before** the migrations: ``change_node_power_state`` on and
  ``change_nova_service_state`` enabled, a host's power-on before its
  enable; migrations into a host wait for them.
* **Migrations** run in waves. A migration joins a wave only if its
  destination has room for it on top of what it holds and what is already
  flying to it in that wave; an instance in flight still counts on its
  source until the wave ends, so no host exceeds its capacity at any step.
  Each wave waits for the one before. Waves are bounded by
  ``max_parallel`` migrations in all, ``max_per_source`` out of one host
  and ``max_per_destination`` into one host. When no pending migration can
  start (a swap A->B, B->A, or a longer cycle, on full hosts), one of them
  goes through a temporary host with room (two hops); if no host has room,
  :class:`SequencingError` is raised and the plan must not be used.
* **After** the migrations: a host's ``change_nova_service_state``
  disabled waits for every migration off that host, and every
  ``change_node_power_state`` off waits for its host's disable and for
  *all* migrations, so a failed migration stops the plan before any host
  is switched off. ``stop`` actions run at once, and every power-off waits
  for them too. Other action types come last, after all migrations.
"""

import dataclasses

import numpy as np

from heatwatcher import exception

EPS = 1e-6


class SequencingError(exception.HeatwatcherException):
    msg_fmt = 'the plan cannot be ordered safely: %(reason)s'


@dataclasses.dataclass
class Limits:
    """Parallelism per wave (like Watcher's weight planner ``migrate: 2``)."""

    max_parallel: int = 8
    max_per_source: int = 1
    max_per_destination: int = 2


@dataclasses.dataclass
class Result:
    """An ordered plan.

    :ivar actions: ordered action dicts (``action_type``,
        ``input_parameters`` with ``resource_id``), temporary hops included.
    :ivar parents: ``parents[k]`` lists indices (< k) that ``actions[k]``
        waits for.
    :ivar waves: number of migration waves.
    :ivar temporary_hops: migrations split through a temporary host.
    """

    actions: list
    parents: list
    waves: int
    temporary_hops: int


def _host(params, key):
    return params.get(key) or params.get('resource_name')


def _migration_waves(moves, capacity, usage, hosts, limits):
    """Group ``moves`` into waves; may add temporary hops (mutates moves)."""
    index = {h: k for k, h in enumerate(hosts)}
    usage = usage.copy()
    pending = list(range(len(moves)))
    last_of = {}   # instance -> index of its latest move already placed
    prev = {}
    for k, m in enumerate(moves):
        prev[k] = last_of.get(m['instance'])
        last_of[m['instance']] = k
    done, waves, hops = set(), [], 0
    while pending:
        wave, reserved = [], np.zeros_like(usage)
        per_src, per_dst = {}, {}
        for k in pending:
            m = moves[k]
            if prev[k] is not None and prev[k] not in done:
                continue
            s, d = index[m['src']], index[m['dst']]
            if (len(wave) >= limits.max_parallel
                    or per_src.get(s, 0) >= limits.max_per_source
                    or per_dst.get(d, 0) >= limits.max_per_destination):
                continue
            if np.all(usage[d] + reserved[d] + m['demand']
                      <= capacity[d] + EPS):
                wave.append(k)
                reserved[d] += m['demand']
                per_src[s] = per_src.get(s, 0) + 1
                per_dst[d] = per_dst.get(d, 0) + 1
        if not wave:
            hops += _break_deadlock(moves, pending, prev, capacity, usage,
                                    hosts, index)
            continue
        for k in wave:
            m = moves[k]
            usage[index[m['src']]] -= m['demand']
            usage[index[m['dst']]] += m['demand']
            done.add(k)
        waves.append(wave)
        pending = [k for k in pending if k not in done]
    return waves, hops


def _break_deadlock(moves, pending, prev, capacity, usage, hosts, index):
    """Route one blocked migration through a temporary host with room."""
    ready = [k for k in pending if prev[k] is None or prev[k] not in pending]
    ready.sort(key=lambda k: -float(np.max(moves[k]['demand']
                                           / np.maximum(capacity[0], 1))))
    for k in ready:
        m = moves[k]
        room = np.all(usage + m['demand'] <= capacity + EPS, axis=1)
        for t in np.flatnonzero(room):
            if hosts[t] in (m['src'], m['dst']):
                continue
            hop = dict(m, dst=hosts[t], temporary=True)
            rest = dict(m, src=hosts[t])
            moves[k] = hop
            moves.append(rest)
            prev[len(moves) - 1] = k
            pending.append(len(moves) - 1)
            return 1
    blocked = sorted({moves[k]['src'] for k in ready}
                     | {moves[k]['dst'] for k in ready})
    raise SequencingError(
        reason='migrations between %s wait for each other (a swap or cycle) '
               'and no other host has room for any of their instances'
               % ', '.join(blocked))


def sequence(actions, capacity, usage, demand, limits=None):
    """Order ``actions`` safely.

    :param actions: action dicts with ``action_type`` and
        ``input_parameters`` (``resource_id``; for ``migrate``:
        ``source_node``, ``destination_node``; others: ``resource_name``
        = hostname).
    :param capacity: ``{hostname: (3,)}`` vCPU, RAM MB, disk GB capacity.
    :param usage: ``{hostname: (3,)}`` use before the plan.
    :param demand: ``{instance uuid: (3,)}`` of the migrated instances.
    :returns: :class:`Result`.
    :raises: :class:`SequencingError`.
    """
    limits = limits or Limits()
    hosts = sorted(set(capacity) | set(usage))
    cap = np.array([np.asarray(capacity.get(h, usage.get(h)), float)
                    for h in hosts])
    use = np.array([np.asarray(usage.get(h, np.zeros(3)), float)
                    for h in hosts])
    cap = np.maximum(cap, use)  # a host over capacity keeps what it has
    pre, post, other, moves, stops = [], [], [], [], []
    for a in actions:
        p, kind = a['input_parameters'], a['action_type']
        if kind == 'migrate':
            for key in ('source_node', 'destination_node'):
                if p.get(key) not in capacity:
                    raise SequencingError(
                        reason='migration of %s: %s %r is not a known host'
                               % (p.get('resource_id'), key, p.get(key)))
            moves.append({'action': a, 'instance': p['resource_id'],
                          'src': p['source_node'],
                          'dst': p['destination_node'],
                          'demand': np.asarray(demand[p['resource_id']],
                                               float)})
        elif (kind, p.get('state')) in (('change_node_power_state', 'on'),
                                        ('change_nova_service_state',
                                         'enabled')):
            pre.append(a)
        elif kind in ('change_node_power_state',
                      'change_nova_service_state'):
            post.append(a)
        elif kind == 'stop':
            stops.append(a)
        else:
            other.append(a)
    waves, hops = _migration_waves(moves, cap, use, hosts, limits)

    out, parents = [], []

    def add(action, deps):
        out.append(action)
        parents.append(sorted(set(deps)))
        return len(out) - 1

    # power-on before enable, per host
    ready_for = {}
    for a in sorted(pre, key=lambda a: a['action_type'] != 'change_node_'
                    'power_state'):
        host = _host(a['input_parameters'], 'resource_name')
        ready_for[host] = [add(a, ready_for.get(host, []))]
    stopped = [add(a, []) for a in stops]
    previous, all_moves, off_host = [], [], {}
    for wave in waves:
        current = []
        for k in wave:
            m = moves[k]
            action, params = m['action'], m['action']['input_parameters']
            if (params['source_node'], params['destination_node']) != (
                    m['src'], m['dst']):  # a leg of a temporary hop
                action = dict(action, input_parameters=dict(
                    params, source_node=m['src'], destination_node=m['dst']))
            idx = add(action, previous + ready_for.get(m['dst'], []))
            current.append(idx)
            off_host.setdefault(m['src'], []).append(idx)
        all_moves += current
        previous = current
    disable_of = {}
    for a in post:
        p = a['input_parameters']
        if a['action_type'] == 'change_nova_service_state':
            host = _host(p, 'resource_name')
            disable_of[host] = add(a, off_host.get(host, []))
    for a in post:
        if a['action_type'] == 'change_node_power_state':
            host = a['input_parameters'].get('resource_name')
            deps = all_moves + stopped + ([disable_of[host]]
                                          if host in disable_of else [])
            add(a, deps)
    for a in other:
        add(a, all_moves)
    return Result(out, parents, len(waves), hops)


def inputs_from_snapshot(snapshot):
    """``(capacity, usage, demand)`` from telemetry records.

    Capacity is the hard limit, (total - reserved) x allocation ratio,
    without the strategy's planning headroom.
    """
    capacity, usage = {}, {}
    for h in snapshot.hosts:
        capacity[h.name] = [
            max(h.vcpus - h.vcpu_reserved, 0) * h.vcpu_ratio,
            max(h.memory_mb - h.memory_mb_reserved, 0) * h.memory_ratio,
            max(h.disk_gb - h.disk_gb_reserved, 0) * h.disk_ratio]
        usage[h.name] = np.zeros(3)
    demand = {}
    for i in snapshot.instances:
        d = np.array([i.vcpus, i.memory_mb, i.disk_gb], float)
        demand[i.uuid] = d
        usage[i.host] = usage[i.host] + d
    return capacity, usage, demand


def check_steps(actions, parents, capacity, usage, demand, count=None):
    """Replay a sequence step by step, as the applier runs it.

    Each step runs every action whose parents are done, counting an
    in-flight migration on both its hosts.

    :param count: ``{hostname: instances before the plan}``; when given,
        disabling or powering off a host that still holds an instance at
        that step is reported.
    :returns: ``(max overload over all steps and hosts (>= 0), steps,
        [descriptions of releases of non-empty hosts])``
    """
    hosts = sorted(set(capacity) | set(usage))
    index = {h: k for k, h in enumerate(hosts)}
    cap = np.array([np.asarray(capacity[h], float) for h in hosts])
    use = np.array([np.asarray(usage.get(h, np.zeros(3)), float)
                    for h in hosts])
    cap = np.maximum(cap, use)
    count = dict(count or {})
    done, worst, steps, bad = set(), 0.0, 0, []
    while len(done) < len(actions):
        ready = [k for k in range(len(actions)) if k not in done
                 and all(p in done for p in parents[k])]
        if not ready:
            raise SequencingError(reason='the parents form a cycle')
        flying = use.copy()
        for k in ready:
            a = actions[k]
            if a['action_type'] == 'migrate':
                p = a['input_parameters']
                flying[index[p['destination_node']]] += demand[
                    p['resource_id']]
        worst = max(worst, float(np.max(flying - cap)))
        for k in ready:
            p = actions[k]['input_parameters']
            if (actions[k]['action_type'] != 'migrate'
                    and p.get('state') in ('off', 'disabled')
                    and count.get(p.get('resource_name'), 0) > 0):
                bad.append('step %d: %s %s of %s, which holds %d instances'
                           % (steps, actions[k]['action_type'],
                              p['state'], p['resource_name'],
                              count[p['resource_name']]))
        for k in ready:
            a = actions[k]
            if a['action_type'] == 'migrate':
                p = a['input_parameters']
                d = np.asarray(demand[p['resource_id']], float)
                use[index[p['source_node']]] -= d
                use[index[p['destination_node']]] += d
                if count:
                    count[p['source_node']] -= 1
                    count[p['destination_node']] = count.get(
                        p['destination_node'], 0) + 1
            done.add(k)
        steps += 1
    return max(worst, 0.0), steps, bad
