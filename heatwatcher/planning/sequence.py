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

* **Before** the migrations: a power-on (:data:`POWER_ACTION_TYPES`) and
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
  power-off waits for its host's disable and for
  *all* migrations, so a failed migration stops the plan before any host
  is switched off. ``stop`` actions run at once, and every power-off waits
  for them too. Other action types come last, after all migrations.
"""

import dataclasses

import numpy as np

from heatwatcher import exception

EPS = 1e-6

#: Action types that power a node on or off (same input parameters):
#: heatwatcher's own, and Watcher's.
POWER_ACTION_TYPES = ('heatwatcher_node_power', 'change_node_power_state')


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
    host_index = {h: k for k, h in enumerate(hosts)}
    usage = usage.copy()
    pending = list(range(len(moves)))
    last_move_of = {}   # instance -> index of its latest move already placed
    waits_for = {}      # move index -> the instance's move before it, if any
    for move_idx, move in enumerate(moves):
        waits_for[move_idx] = last_move_of.get(move['instance'])
        last_move_of[move['instance']] = move_idx
    done, waves, temporary_hops = set(), [], 0
    while pending:
        wave, reserved = [], np.zeros_like(usage)
        per_src, per_dst = {}, {}
        for move_idx in pending:
            move = moves[move_idx]
            if (waits_for[move_idx] is not None
                    and waits_for[move_idx] not in done):
                continue
            src_row, dst_row = (host_index[move['src']],
                                host_index[move['dst']])
            if (len(wave) >= limits.max_parallel
                    or per_src.get(src_row, 0) >= limits.max_per_source
                    or per_dst.get(dst_row, 0) >= limits.max_per_destination):
                continue
            if np.all(usage[dst_row] + reserved[dst_row] + move['demand']
                      <= capacity[dst_row] + EPS):
                wave.append(move_idx)
                reserved[dst_row] += move['demand']
                per_src[src_row] = per_src.get(src_row, 0) + 1
                per_dst[dst_row] = per_dst.get(dst_row, 0) + 1
        if not wave:
            temporary_hops += _break_deadlock(moves, pending, waits_for,
                                              capacity, usage, hosts,
                                              host_index)
            continue
        for move_idx in wave:
            move = moves[move_idx]
            usage[host_index[move['src']]] -= move['demand']
            usage[host_index[move['dst']]] += move['demand']
            done.add(move_idx)
        waves.append(wave)
        pending = [k for k in pending if k not in done]
    return waves, temporary_hops


def _break_deadlock(moves, pending, waits_for, capacity, usage, hosts,
                    host_index):
    """Route one blocked migration through a temporary host with room."""
    ready = [k for k in pending
             if waits_for[k] is None or waits_for[k] not in pending]
    ready.sort(key=lambda k: -float(np.max(moves[k]['demand']
                                           / np.maximum(capacity[0], 1))))
    for move_idx in ready:
        move = moves[move_idx]
        room = np.all(usage + move['demand'] <= capacity + EPS, axis=1)
        for via in np.flatnonzero(room):
            if hosts[via] in (move['src'], move['dst']):
                continue
            hop = dict(move, dst=hosts[via], temporary=True)
            rest = dict(move, src=hosts[via])
            moves[move_idx] = hop
            moves.append(rest)
            waits_for[len(moves) - 1] = move_idx
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
    host_capacity = np.array(
        [np.asarray(capacity.get(h, usage.get(h)), float) for h in hosts])
    host_usage = np.array([np.asarray(usage.get(h, np.zeros(3)), float)
                           for h in hosts])
    # a host over capacity keeps what it has
    host_capacity = np.maximum(host_capacity, host_usage)
    before_moves, after_moves, others, moves, stops = [], [], [], [], []
    for action in actions:
        params, kind = action['input_parameters'], action['action_type']
        if kind == 'migrate':
            for key in ('source_node', 'destination_node'):
                if params.get(key) not in capacity:
                    raise SequencingError(
                        reason='migration of %s: %s %r is not a known host'
                               % (params.get('resource_id'), key,
                                  params.get(key)))
            moves.append({'action': action,
                          'instance': params['resource_id'],
                          'src': params['source_node'],
                          'dst': params['destination_node'],
                          'demand': np.asarray(demand[params['resource_id']],
                                               float)})
        elif ((kind in POWER_ACTION_TYPES and params.get('state') == 'on')
              or (kind, params.get('state')) == (
                  'change_nova_service_state', 'enabled')):
            before_moves.append(action)
        elif kind in POWER_ACTION_TYPES + ('change_nova_service_state',):
            after_moves.append(action)
        elif kind == 'stop':
            stops.append(action)
        else:
            others.append(action)
    waves, temporary_hops = _migration_waves(moves, host_capacity,
                                             host_usage, hosts, limits)

    ordered, parents = [], []

    def add(action, deps):
        ordered.append(action)
        parents.append(sorted(set(deps)))
        return len(ordered) - 1

    # power-on before enable, per host
    ready_for = {}
    for action in sorted(before_moves,
                         key=lambda a: a['action_type'] != 'change_node_'
                         'power_state'):
        host = _host(action['input_parameters'], 'resource_name')
        ready_for[host] = [add(action, ready_for.get(host, []))]
    stopped = [add(action, []) for action in stops]
    previous, all_moves, off_host = [], [], {}
    for wave in waves:
        current = []
        for move_idx in wave:
            move = moves[move_idx]
            action = move['action']
            params = action['input_parameters']
            if (params['source_node'], params['destination_node']) != (
                    move['src'], move['dst']):  # a leg of a temporary hop
                action = dict(action, input_parameters=dict(
                    params, source_node=move['src'],
                    destination_node=move['dst']))
            position = add(action, previous + ready_for.get(move['dst'], []))
            current.append(position)
            off_host.setdefault(move['src'], []).append(position)
        all_moves += current
        previous = current
    disable_of = {}
    for action in after_moves:
        params = action['input_parameters']
        if action['action_type'] == 'change_nova_service_state':
            host = _host(params, 'resource_name')
            disable_of[host] = add(action, off_host.get(host, []))
    for action in after_moves:
        if action['action_type'] in POWER_ACTION_TYPES:
            host = action['input_parameters'].get('resource_name')
            deps = all_moves + stopped + ([disable_of[host]]
                                          if host in disable_of else [])
            add(action, deps)
    for action in others:
        add(action, all_moves)
    return Result(ordered, parents, len(waves), temporary_hops)


def inputs_from_snapshot(snapshot):
    """``(capacity, usage, demand)`` from telemetry records.

    Capacity is the hard limit, (total - reserved) x allocation ratio,
    without the strategy's planning headroom.
    """
    capacity, usage = {}, {}
    for host in snapshot.hosts:
        capacity[host.name] = [
            max(host.vcpus - host.vcpu_reserved, 0) * host.vcpu_ratio,
            (max(host.memory_mb - host.memory_mb_reserved, 0)
             * host.memory_ratio),
            max(host.disk_gb - host.disk_gb_reserved, 0) * host.disk_ratio]
        usage[host.name] = np.zeros(3)
    demand = {}
    for instance in snapshot.instances:
        instance_demand = np.array(
            [instance.vcpus, instance.memory_mb, instance.disk_gb], float)
        demand[instance.uuid] = instance_demand
        usage[instance.host] = usage[instance.host] + instance_demand
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
    host_index = {h: k for k, h in enumerate(hosts)}
    host_capacity = np.array([np.asarray(capacity[h], float) for h in hosts])
    host_usage = np.array([np.asarray(usage.get(h, np.zeros(3)), float)
                           for h in hosts])
    host_capacity = np.maximum(host_capacity, host_usage)
    count = dict(count or {})
    done, worst, steps, releases = set(), 0.0, 0, []
    while len(done) < len(actions):
        ready = [k for k in range(len(actions)) if k not in done
                 and all(parent in done for parent in parents[k])]
        if not ready:
            raise SequencingError(reason='the parents form a cycle')
        flying = host_usage.copy()
        for action_idx in ready:
            action = actions[action_idx]
            if action['action_type'] == 'migrate':
                params = action['input_parameters']
                flying[host_index[params['destination_node']]] += demand[
                    params['resource_id']]
        worst = max(worst, float(np.max(flying - host_capacity)))
        for action_idx in ready:
            params = actions[action_idx]['input_parameters']
            if (actions[action_idx]['action_type'] != 'migrate'
                    and params.get('state') in ('off', 'disabled')
                    and count.get(params.get('resource_name'), 0) > 0):
                releases.append(
                    'step %d: %s %s of %s, which holds %d instances'
                    % (steps, actions[action_idx]['action_type'],
                       params['state'], params['resource_name'],
                       count[params['resource_name']]))
        for action_idx in ready:
            action = actions[action_idx]
            if action['action_type'] == 'migrate':
                params = action['input_parameters']
                moved_demand = np.asarray(demand[params['resource_id']],
                                          float)
                src_row = host_index[params['source_node']]
                dst_row = host_index[params['destination_node']]
                host_usage[src_row] -= moved_demand
                host_usage[dst_row] += moved_demand
                if count:
                    count[params['source_node']] -= 1
                    count[params['destination_node']] = count.get(
                        params['destination_node'], 0) + 1
            done.add(action_idx)
        steps += 1
    return max(worst, 0.0), steps, releases
