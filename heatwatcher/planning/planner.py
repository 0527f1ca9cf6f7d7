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
"""The ``heat_sequenced`` Watcher planner.

Orders a solution's actions with :mod:`heatwatcher.planning.sequence`, so
that no host exceeds its capacity at any step, hosts are powered on and
enabled before migrations need them, and disabled and powered off only after
the migrations off them. The state before the plan is rebuilt from the
strategy's compute model (which holds the state after it) by undoing the
solution's migrations, so any strategy that applies its moves to the model
can use this planner.
"""

from oslo_log import log
from watcher.common import utils
from watcher.decision_engine.planner import weight
from watcher import objects

from heatwatcher.conf import planner as planner_options
from heatwatcher.planning import sequence

LOG = log.getLogger(__name__)


def _vector(node):
    return [node.vcpu_capacity, node.memory_mb_capacity,
            node.disk_gb_capacity]


def inputs_from_model(model, actions):
    """``(capacity, usage before, demand)`` for :func:`sequence.sequence`."""
    capacity, usage = {}, {}
    for node in model.get_all_compute_nodes().values():
        capacity[node.hostname] = _vector(node)
        used = [0.0, 0.0, 0.0]
        for inst in model.get_node_instances(node):
            used = [used[0] + inst.vcpus, used[1] + inst.memory,
                    used[2] + inst.disk]
        usage[node.hostname] = used
    demand = {}
    for a in reversed(actions):
        if a['action_type'] != 'migrate':
            continue
        p = a['input_parameters']
        inst = model.get_instance_by_uuid(p['resource_id'])
        d = [inst.vcpus, inst.memory, inst.disk]
        demand[p['resource_id']] = d
        for host, sign in ((p['destination_node'], -1),
                           (p['source_node'], 1)):
            usage[host] = [u + sign * x for u, x in zip(usage[host], d)]
    return capacity, usage, demand


class HeatSequencedPlanner(weight.WeightPlanner):
    """Capacity-safe planner for heatwatcher's strategies."""

    @classmethod
    def get_config_opts(cls):
        # The same option objects heatwatcher.conf registers.
        return list(planner_options.OPTS)

    def limits(self):
        return planner_options.limits(self.config)

    def sequence(self, solution):
        capacity, usage, demand = inputs_from_model(
            solution.strategy.compute_model, solution.actions)
        return sequence.sequence(solution.actions, capacity, usage, demand,
                                 self.limits())

    def offline_schedule(self, solution):
        """The order and parents :meth:`schedule` stores, without a DB."""
        res = self.sequence(solution)
        return [{'action_type': a['action_type'],
                 'input_parameters': dict(a['input_parameters']),
                 'parents': parents}
                for a, parents in zip(res.actions, res.parents)]

    def schedule(self, context, audit_id, solution):
        res = self.sequence(solution)
        action_plan = self.create_action_plan(context, audit_id, solution)
        self._create_efficacy_indicators(context, action_plan.id,
                                         solution.efficacy_indicators)
        LOG.info('heat_sequenced: %d actions in %d migration waves, %d '
                 'temporary hops', len(res.actions), res.waves,
                 res.temporary_hops)
        if not res.actions:
            LOG.warning('The action plan is empty')
            action_plan.state = objects.action_plan.State.SUCCEEDED
            action_plan.save()
            return action_plan
        uuids = [utils.generate_uuid() for _ in res.actions]
        for k, (a, parents) in enumerate(zip(res.actions, res.parents)):
            objects.Action(
                context, uuid=uuids[k], action_plan_id=action_plan.id,
                action_type=a['action_type'],
                input_parameters=a['input_parameters'],
                parents=[uuids[p] for p in parents]).create()
        return action_plan
