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
"""Options of ``[watcher_actions.heatwatcher_node_power]``.

Watcher's action loader registers this group when the applier loads the
action (:class:`heatwatcher.applier.node_power.NodePower` returns these
option objects).
"""

from oslo_config import cfg

ACTION_NAME = 'heatwatcher_node_power'
GROUP = 'watcher_actions.%s' % ACTION_NAME

OPTS = [
    cfg.IntOpt('power_state_timeout', default=600, min=1,
               help='Seconds to wait for the bare metal node to report the '
                    'requested power state before the action fails with '
                    'the state it observed.'),
    cfg.FloatOpt('poll_interval', default=10.0, min=0.1,
                 help='Seconds between two reads of the node\'s power '
                      'state, and of the nova-compute service\'s state.'),
    cfg.IntOpt('service_up_timeout', default=600, min=0,
               help='After a power-on, seconds to wait for the host\'s '
                    'nova-compute service to report "up" before the plan '
                    'goes on (migrations into the host need it); 0 does not '
                    'wait.'),
]


def list_opts():
    return [(GROUP, OPTS)]
