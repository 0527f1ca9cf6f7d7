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
"""heatwatcher's own option groups, registered on ``cfg.CONF`` on import.

As Watcher's ``watcher.conf`` package does, importing this package
registers every group heatwatcher reads outside a strategy's own options:

* ``[heatwatcher]`` (:mod:`.heatwatcher`): forecast state between audits;
* ``[watcher_planners.heat_sequenced]`` (:mod:`.planner`): the
  parallelism of the capacity-safe planner, which heat_consolidation also
  reads to check its plan can be ordered.

Code reads these groups once per audit through the functions of those
modules and passes the small objects they return down; nothing below the
strategies reads configuration.
"""

from oslo_config import cfg

from heatwatcher.conf import heatwatcher
from heatwatcher.conf import planner

CONF = cfg.CONF

heatwatcher.register_opts(CONF)
planner.register_opts(CONF)
