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
"""Options of ``[watcher_planners.heat_sequenced]``: migration parallelism.

Watcher's planner loader registers this group when it loads the planner
(:class:`heatwatcher.planning.planner.HeatSequencedPlanner` returns these
same option objects); :mod:`heatwatcher.conf` registers it too, so the
strategy can read the limits before the planner is loaded.
"""

from oslo_config import cfg

from heatwatcher.planning import sequence

GROUP = 'watcher_planners.heat_sequenced'

OPTS = [
    cfg.IntOpt('max_parallel_migrations', default=8, min=1,
               help='Most migrations running at once.'),
    cfg.IntOpt('max_parallel_migrations_per_source', default=1, min=1,
               help='Most migrations out of one host at once (Nova '
                    'live-migrates one at a time per host by default).'),
    cfg.IntOpt('max_parallel_migrations_per_destination', default=2,
               min=1, help='Most migrations into one host at once.'),
]


def register_opts(conf):
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]


def limits(group):
    """:class:`~heatwatcher.planning.sequence.Limits` from the group.

    :param group: the option group (``conf.get(GROUP)``, or the
        planner's config struct), read with attribute access.
    """
    return sequence.Limits(
        max_parallel=group.max_parallel_migrations,
        max_per_source=group.max_parallel_migrations_per_source,
        max_per_destination=group.max_parallel_migrations_per_destination)


def read_limits(conf):
    """The planner's limits as configured in ``conf``."""
    return limits(conf.get(GROUP))
