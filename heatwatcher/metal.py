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
"""Watcher's bare metal helper, with a Nova client that works.

python-watcher 17.0.0's ``BaseMetalHelper.nova_client`` builds its Nova
client as ``NovaHelper(osc)``, but ``NovaHelper``'s first parameter is a
keystone session, not Watcher's ``OpenStackClients``; the first Nova call
then fails (``'OpenStackClients' object has no attribute
'get_api_major_version'``). Every Ironic node that carries
``extra.compute_node_id``, as Watcher requires, goes through that client
(``get_node``, ``list_compute_nodes``). :func:`metal_helper` gives the
helper a Nova client built as Watcher's own actions build theirs.
"""

from watcher.common.metal_helper import base as metal_base
from watcher.common.metal_helper import factory as metal_factory
from watcher.common import nova_helper


def metal_helper(osc=None):
    """Watcher's Ironic or MAAS helper for ``osc``, ready to use."""
    helper = metal_factory.get_helper(osc)
    if (isinstance(helper, metal_base.BaseMetalHelper)
            and getattr(helper, '_nova_client', None) is None):
        helper._nova_client = nova_helper.NovaHelper()
    return helper
