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
"""Issue 13, point 1: goals and strategies through Keystone, with the real
``openstack optimize`` client."""


def test_goal_list_shows_heat_reuse(sandbox):
    goals = {goal['Name'] for goal in sandbox.openstack(
        'optimize', 'goal', 'list')}
    assert {'heat_reuse', 'thermal_event_mitigation'} <= goals


def test_strategy_list_for_heat_reuse(sandbox):
    strategies = sandbox.openstack('optimize', 'strategy', 'list',
                                   '--goal', 'heat_reuse')
    assert [row['Name'] for row in strategies] == ['heat_consolidation']
    assert {row['Goal'] for row in strategies} == {'heat_reuse'}


def test_goal_show_has_efficacy_specification(sandbox):
    goal = sandbox.openstack('optimize', 'goal', 'show', 'heat_reuse')
    spec = goal['Efficacy specification']
    names = {item['name'] for item in spec}
    assert {'hosts_reaching_target_count', 'instance_migrations_count',
            'released_compute_nodes_count'} <= names


def test_unauthenticated_request_is_refused(sandbox):
    import requests

    response = requests.get(sandbox.layout.url('watcher', '/v1/goals'),
                            timeout=30)
    assert response.status_code == 401
