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
"""The ``thermal_event_mitigation`` goal.

Shed heat in a controlled, ranked order when a thermal zone overheats, and
bring capacity back afterwards.
"""

from watcher.decision_engine.goal import base
from watcher.decision_engine.goal.efficacy import base as efficacy_base
from watcher.decision_engine.solution import efficacy

from heatwatcher.goals import heat_reuse

INDICATORS = [
    ('hosts_powered_down_count', 'Hosts the plan evacuates, disables and '
     'powers off.', None, 'integer'),
    ('hosts_powered_up_count', 'Shed hosts the plan powers on and enables.',
     None, 'integer'),
    ('instance_migrations_count', 'Instance migrations in the plan.', None,
     'integer'),
    ('instances_stopped_count', 'Instances stopped because they fit '
     'nowhere (evacuation_policy stop_low_priority).', None, 'integer'),
    ('projected_heat_reduction', 'Heat rate removed from the hot zones once '
     'the plan has run.', 'W', 'number'),
    ('required_heat_reduction', 'Heat rate the hot zones had to shed.', 'W',
     'number'),
    ('hottest_zone_temperature', 'Temperature of the hottest thermal zone.',
     '°C', 'number'),
]


class _Indicator(heat_reuse._Indicator):
    @property
    def schema(self):
        if self.name == 'hottest_zone_temperature':
            return {'type': 'number'}
        return super().schema


class ThermalEventSpecification(efficacy_base.EfficacySpecification):

    def get_indicators_specifications(self):
        return [_Indicator(*spec) for spec in INDICATORS]

    def get_global_efficacy_indicator(self, indicators_map=None):
        required = (indicators_map or {}).get('required_heat_reduction', 0)
        done = (indicators_map or {}).get('projected_heat_reduction', 0)
        value = 100.0 if not required else min(100.0, 100.0 * done
                                               / required)
        return [efficacy.Indicator(
            name='heat_reduction_coverage',
            description='Projected heat reduction in percent of what the '
                        'hot zones had to shed (100 when nothing had to).',
            unit='%', value=round(float(value),
                                  heat_reuse.GLOBAL_EFFICACY_DECIMALS))]


class ThermalEventMitigation(base.Goal):
    """Keep thermal zones below their trigger temperature.

    During a thermal event (a cooling failure, or the heat customer not
    taking heat) the zone's hosts are shed in a ranked order; when the zone
    has cooled down they come back.
    """

    @classmethod
    def get_name(cls):
        return 'thermal_event_mitigation'

    @classmethod
    def get_display_name(cls):
        return 'Thermal Event Mitigation'

    @classmethod
    def get_translatable_display_name(cls):
        return 'Thermal Event Mitigation'

    @classmethod
    def get_efficacy_specification(cls):
        return ThermalEventSpecification()
