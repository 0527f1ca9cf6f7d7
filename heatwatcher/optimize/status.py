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
"""How an audit's placement was decided (the report's ``solver.status``)."""

import enum


class Status(str, enum.Enum):
    """Outcome of placing the instances, from the solve to the plan.

    The solver gives ``IMPROVED`` or ``NO_IMPROVEMENT``; the steps after it
    may drop its placement (``DAMPED``, ``NOT_SEQUENCED``), and the plan
    then moves no instance.
    """

    #: a placement strictly better than the current one is planned
    IMPROVED = 'improved'
    #: nothing strictly better was found; the instances stay
    NO_IMPROVEMENT = 'no_improvement'
    #: the gain does not last over the forecast (plan-level damping)
    DAMPED = 'damped'
    #: no capacity-safe order of the migrations exists
    NOT_SEQUENCED = 'not_sequenced'

    def __str__(self):
        return self.value
