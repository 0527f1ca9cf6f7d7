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
"""Where and how every benchmark writes its results."""

import json
import os

DEFAULT_OUT = os.path.join('doc', 'source', 'benchmarks')


def add_out_argument(parser):
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help='directory of the JSON and Markdown results '
                             '(default %(default)s)')


def write(out, name, data, markdown):
    """Write ``<out>/<name>.json`` (``data``) and ``<name>.md``."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name + '.json'), 'w') as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(out, name + '.md'), 'w') as f:
        f.write(markdown)
