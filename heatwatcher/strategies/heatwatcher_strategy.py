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
"""What heatwatcher's strategies share on top of Watcher's BaseStrategy.

The ``heat_sequenced`` planner, the bare metal helper, and one way of
running: ``_run()`` computes the solution and sets ``self.indicators`` and
``self.report``; a :class:`~heatwatcher.exception.HeatwatcherException`
fails the audit with its message in the audit's status message, and a
successful run leaves ``report['summary']`` there.
"""

from oslo_log import log
from watcher.decision_engine.strategy.strategies import base as watcher_base

from heatwatcher import exception
from heatwatcher import metal

LOG = log.getLogger(__name__)


class HeatwatcherStrategy(watcher_base.BaseStrategy):

    #: The strategy's settings module: ``schema()`` for the audit
    #: parameters, ``config_opts()`` for its options.
    SETTINGS = None

    def __init__(self, config, osc=None):
        super().__init__(config, osc)
        self._planner = 'heat_sequenced'
        self._metal_helper = None
        self.indicators = None
        self.report = {}
        self.audit_uuid = None

    @property
    def metal_helper(self):
        if self._metal_helper is None:
            self._metal_helper = metal.metal_helper(self.osc)
        return self._metal_helper

    @classmethod
    def get_schema(cls):
        return cls.SETTINGS.schema()

    @classmethod
    def get_config_opts(cls):
        # Watcher's own options (datasources) first, then the strategy's.
        return super().get_config_opts() + cls.SETTINGS.config_opts()

    def pre_execute(self):
        self._pre_execute()

    def do_execute(self, audit=None):
        self.audit_uuid = getattr(audit, 'uuid', None)
        try:
            self._run()
        except exception.HeatwatcherException as exc:
            LOG.error('%s failed: %s', self.get_name(), exc)
            self._status_message(audit, '%s: %s' % (self.get_name(), exc))
            raise
        self._status_message(audit, self.report.get('summary'))

    def post_execute(self):
        self.solution.set_efficacy_indicators(**self.indicators)

    def _run(self):
        raise NotImplementedError()

    @staticmethod
    def _status_message(audit, message):
        """Show ``message`` in ``openstack optimize audit show``."""
        if audit is None or not message:
            return
        try:
            audit.status_message = message[:255]
        except Exception as exc:  # older Audit objects have no such field
            LOG.debug('Cannot set the audit status message: %s', exc)
