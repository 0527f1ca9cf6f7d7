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

import types
import unittest

import jsonschema

from heatwatcher import exception
from heatwatcher.strategies import heat_consolidation_settings as hs


def conf(**over):
    values = {o.dest: o.default for o in hs.config_opts()}
    values.update(over)
    return types.SimpleNamespace(**values)


class TestSchema(unittest.TestCase):

    def test_every_property_has_type_default_description(self):
        schema = hs.schema()
        jsonschema.Draft4Validator.check_schema(schema)
        self.assertEqual({o.dest for o in hs.config_opts()},
                         set(schema['properties']))
        for name, prop in schema['properties'].items():
            self.assertIn('type', prop, name)
            self.assertIn('default', prop, name)
            self.assertTrue(prop['description'], name)

    def test_every_option_has_help(self):
        for opt in hs.config_opts():
            self.assertTrue(opt.help, opt.dest)

    def test_schema_rejects_bad_values(self):
        v = jsonschema.Draft4Validator(hs.schema())
        for bad in ({'headroom': 1.5}, {'idle_host_action': 'explode'},
                    {'loop_hosts': 'compute-1'}, {'period': 10},
                    {'host_power_profiles': {'a': [1]}},
                    {'host_targets': {'a': -1}}, {'unknown': 1}):
            self.assertFalse(v.is_valid(bad), bad)
        self.assertTrue(v.is_valid({'idle_host_action': None}))


class TestResolve(unittest.TestCase):

    def test_null_parameter_takes_the_option(self):
        s = hs.resolve(conf(target_heat_rate=450.0), {'target_heat_rate':
                                                      None})
        self.assertEqual(450.0, s.target_heat_rate)
        s = hs.resolve(conf(target_heat_rate=450.0),
                       {'target_heat_rate': 500})
        self.assertEqual(500, s.target_heat_rate)

    def test_profiles_from_config_strings_and_parameters(self):
        s = hs.resolve(conf(host_power_profiles={'r640-*': '95/310'}), {})
        self.assertEqual({'r640-*': (95.0, 310.0)}, s.host_power_profiles)
        s = hs.resolve(conf(), {'host_power_profiles': {'x': [50, 60]}})
        self.assertEqual({'x': (50.0, 60.0)}, s.host_power_profiles)

    def test_bad_profile_names_the_entry(self):
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    r'host_power_profiles\[r640-\*\]'):
            hs.resolve(conf(host_power_profiles={'r640-*': 'ninety'}), {})
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'never decrease with load'):
            hs.resolve(conf(), {'host_power_profiles': {'x': [300, 100]}})
        s = hs.resolve(conf(), {'host_power_profiles': {
            'x': list(range(100, 210, 10))}})
        self.assertEqual(11, len(s.host_power_profiles['x']))
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'or 11 watts'):
            hs.resolve(conf(host_power_profiles={'x': '1/2/3'}), {})
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'heat_metric: time_above_temperature '
                                    'needs heat_source simulation'):
            hs.resolve(conf(), {'heat_metric': 'time_above_temperature'})

    def test_cross_field_checks(self):
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'default_idle_power'):
            hs.resolve(conf(), {'default_idle_power': 400.0})
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    'granularity'):
            hs.resolve(conf(), {'granularity': 7200, 'period': 3600})
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    r'host_targets\[a\]'):
            hs.resolve(conf(host_targets={'a': -5.0}), {})

    def test_match_prefers_exact_names(self):
        pats = {'compute-*': 1, 'compute-7': 2}
        self.assertEqual('compute-7', hs.match(pats, 'compute-7'))
        self.assertEqual('compute-*', hs.match(pats, 'compute-8'))
        self.assertIsNone(hs.match(pats, 'ctl-1'))

    def test_audit_pattern_matching_nothing_is_an_error(self):
        s = hs.resolve(conf(), {'loop_hosts': ['c-*']})
        self.assertEqual([], hs.check_patterns(s, ['c-1']))
        s = hs.resolve(conf(), {'host_targets': {'d-*': 300}})
        with self.assertRaisesRegex(exception.InvalidParameter,
                                    "host_targets: 'd-\\*' matches no"):
            hs.check_patterns(s, ['c-1'])

    def test_configured_pattern_matching_nothing_is_a_note(self):
        s = hs.resolve(conf(loop_hosts=['az2-*']), {})
        notes = hs.check_patterns(s, ['az1-1'])
        self.assertEqual(["loop_hosts: 'az2-*' matches no enabled compute "
                          "node in the audit scope (1 nodes: az1-1)"], notes)
