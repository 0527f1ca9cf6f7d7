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
"""Watcher's metal helper gets a Nova client built without arguments."""

from unittest import mock

from watcher.common.metal_helper import ironic
from watcher.tests import base

from heatwatcher import metal


class TestMetalHelper(base.WatcherBaseTestCase):

    @mock.patch('watcher.common.nova_helper.NovaHelper')
    def test_nova_client_is_built_like_watchers_actions_build_it(
            self, nova_class):
        osc = mock.Mock(name='OpenStackClients')
        helper = metal.metal_helper(osc)
        self.assertIsInstance(helper, ironic.IronicHelper)
        # python-watcher 17.0.0 would build NovaHelper(osc): osc is not a
        # keystone session, and the first Nova call fails.
        self.assertIs(nova_class.return_value, helper.nova_client)
        nova_class.assert_called_once_with()
