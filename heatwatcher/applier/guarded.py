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
"""The ``heat_guarded`` workflow engine for Watcher's applier.

Watcher's ``taskflow`` engine (python-watcher 17) marks a failed action
FAILED but keeps the flow going, and with its default execution rule every
action runs whatever happened to its parents: after a failed migration, the
disable and power-off of other hosts still run. This engine is Watcher's
taskflow engine with one change: an action runs only if every parent
succeeded; otherwise it and everything after it are skipped, and the plan
ends FAILED. Enable it with ``[watcher_applier] workflow_engine =
heat_guarded``.
"""

from oslo_log import log
from watcher.applier.workflow_engine import default

LOG = log.getLogger(__name__)


class GuardedWorkFlowEngine(default.DefaultWorkFlowEngine):
    """Taskflow engine that never runs an action after a failed parent."""

    def decider(self, history):
        """Allow an action only if all its parents returned success.

        :param history: ``{parent task name: result}``; a parent's result is
            True only when its action SUCCEEDED.
        """
        failed = [name for name, ok in (history or {}).items() if ok is not
                  True]
        if failed:
            LOG.warning('heat_guarded: skipping an action after failed '
                        'parent(s): %s', ', '.join(sorted(failed)))
            return False
        return True
