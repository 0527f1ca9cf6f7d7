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
"""Write oslo.config style INI files."""

import configparser


def ini_value(value):
    """An oslo.config value: lists as ``a,b``, dicts as ``k:v,k2:v2``."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ','.join(ini_value(item) for item in value)
    if isinstance(value, dict):
        return ','.join('%s:%s' % (key, ini_value(item))
                        for key, item in value.items())
    return str(value)


def write_ini(path, sections):
    """Write ``{section: {option: value}}`` to ``path``."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    for section, options in sections.items():
        if section != 'DEFAULT':
            parser.add_section(section)
        for option, value in options.items():
            if value is not None:
                parser.set(section, option, ini_value(value))
    with open(path, 'w') as handle:
        parser.write(handle)
