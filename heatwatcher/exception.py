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
"""Typed errors. Each class formats ``msg_fmt`` with its keyword arguments.

They do not depend on Watcher, so the pure stages (estimation, optimisation)
can raise them; the strategy lets them fail the audit with their message.
"""


class HeatwatcherException(Exception):
    """Base error; subclasses set ``msg_fmt``."""

    msg_fmt = 'An unknown heatwatcher error occurred'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if not message:
            message = self.msg_fmt % kwargs
        super().__init__(message)


class InvalidParameter(HeatwatcherException):
    """An audit parameter or strategy option has a bad value."""

    msg_fmt = 'Invalid value for %(field)s: %(reason)s'


class InvalidProblem(HeatwatcherException):
    """The arrays handed to the optimiser are inconsistent."""

    msg_fmt = 'Invalid placement problem: %(reason)s'


class InvalidClusterData(HeatwatcherException):
    """A host or instance in the cluster model has unusable data."""

    msg_fmt = 'Invalid data for %(item)s, field %(field)s: %(reason)s'


class TelemetryUnavailable(HeatwatcherException):
    """No usable metric at all: planning would rest on assumptions only."""

    msg_fmt = ('%(metric)s is missing for all %(count)d instances over the '
               'last %(period)d s (%(detail)s); check [watcher_datasources] '
               'and the datasource; no plan is made on assumed load')


class BaremetalNodeNotFound(HeatwatcherException):
    """Power actions were requested but no bare metal node matches hosts."""

    msg_fmt = ('idle_host_action is power_off but no bare metal node was '
               'found for host(s) %(hosts)s; register them in Ironic (extra '
               'compute_node_id = hypervisor id) or use idle_host_action '
               '"disable"')


class TelemetryUnreachable(HeatwatcherException):
    """The datasource does not answer at all (connection refused, timeout).

    Reading it resource by resource would only repeat the failure, with
    Watcher's retries, for every resource.
    """

    msg_fmt = ('telemetry unreachable: the %(datasource)s datasource does '
               'not answer (%(reason)s); no plan is made without telemetry')
