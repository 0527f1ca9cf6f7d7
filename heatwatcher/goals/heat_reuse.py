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
"""The ``heat_reuse`` goal: loop hosts run hot enough for their heat to be
reused, and hosts left empty are released."""

from watcher.decision_engine.goal import base
from watcher.decision_engine.goal.efficacy import base as efficacy_base
from watcher.decision_engine.goal.efficacy import indicators
from watcher.decision_engine.solution import efficacy

# (name, description, unit, JSON schema type)
INDICATORS = [
    ('loop_hosts_count', 'Loop hosts in the audit scope.', None, 'integer'),
    ('hosts_reaching_target_count',
     'Loop hosts whose estimated heat rate after the plan is at or above '
     'their target.', None, 'integer'),
    ('heat_rate_before', 'Estimated heat rate of the loop hosts before the '
     'plan.', 'W', 'number'),
    ('heat_rate_after', 'Estimated heat rate of the loop hosts after the '
     'plan.', 'W', 'number'),
    ('harvested_heat_rate_before', 'Heat rate of the loop hosts at or above '
     'their target before the plan: the heat the loop can take.', 'W',
     'number'),
    ('harvested_heat_rate_after', 'Heat rate of the loop hosts at or above '
     'their target after the plan.', 'W', 'number'),
    ('released_compute_nodes_count', 'Compute nodes the plan empties and '
     'releases.', None, 'integer'),
    ('instance_migrations_count', 'Instance migrations in the plan.', None,
     'integer'),
]


# Decimals of the global efficacy: Horizon shows the stored value as it is.
GLOBAL_EFFICACY_DECIMALS = 1


class _Indicator(indicators.IndicatorSpecification):
    def __init__(self, name, description, unit, kind):
        super().__init__(name=name, description=description, unit=unit)
        self._kind = kind

    @property
    def schema(self):
        return {'type': self._kind, 'minimum': 0}


class HeatReuseSpecification(efficacy_base.EfficacySpecification):
    """Indicators of :class:`HeatReuse` and its global efficacy."""

    def get_indicators_specifications(self):
        return [_Indicator(*spec) for spec in INDICATORS]

    def get_global_efficacy_indicator(self, indicators_map=None):
        value = 0.0
        if indicators_map and indicators_map.get('loop_hosts_count'):
            value = (100.0 * indicators_map['hosts_reaching_target_count']
                     / indicators_map['loop_hosts_count'])
        return [efficacy.Indicator(
            name='hosts_reaching_target_ratio',
            description='Loop hosts reaching their target heat rate after '
                        'the plan, in percent of the loop hosts.',
            unit='%', value=round(float(value), GLOBAL_EFFICACY_DECIMALS))]


class HeatReuse(base.Goal):
    """Make the hosts on the heat-reuse loop reach their target heat rate.

    Instances are packed onto the hosts attached to the loop so that as many
    of them as possible produce at least their target heat rate, with the
    fewest active hosts and the fewest migrations; hosts left empty are
    disabled or switched off.
    """

    @classmethod
    def get_name(cls):
        return 'heat_reuse'

    @classmethod
    def get_display_name(cls):
        return 'Heat Reuse'

    @classmethod
    def get_translatable_display_name(cls):
        return 'Heat Reuse'

    @classmethod
    def get_efficacy_specification(cls):
        return HeatReuseSpecification()
