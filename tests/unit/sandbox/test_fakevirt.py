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
"""The fake virt driver of ``up --nova real``, sized as a snapshot host.

The first tests stand Nova's modules in with stubs, so they run without
Nova. The last ones (skipped unless Nova is installed, as with
``pip install heatwatcher[nova]``) load the driver as ``nova-compute``
does, under the configuration the sandbox writes for a host, and read
what it reports to the resource tracker and to Placement.
"""

import os
import shutil
import sys
import tempfile
import types
import unittest
from unittest import mock

import pytest

from heatwatcher.sandbox import config
from heatwatcher.sandbox import fakevirt
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import nova

HOST = {'name': 'a-01', 'uuid': 'node-a-01', 'vcpus': 32,
        'memory_mb': 262144, 'disk_gb': 1800, 'vcpu_ratio': 4.0,
        'memory_ratio': 1.5, 'disk_ratio': 2.0, 'vcpu_reserved': 2,
        'memory_mb_reserved': 4096, 'disk_gb_reserved': 10}


class StubFakeDriver:
    """Nova's FakeDriver as far as sizing goes.

    Class-level defaults, read by ``__init__``.
    """

    vcpus = 1000
    memory_mb = 800000
    local_gb = 600000

    def __init__(self, virtapi, read_only=False):
        self.virtapi = virtapi
        self.read_only = read_only
        self.resources = {'vcpus': self.vcpus, 'memory_mb': self.memory_mb,
                          'local_gb': self.local_gb}


def _stub_nova(compute_main=None):
    """sys.modules entries standing for nova.virt.fake, nova.cmd.compute."""
    fake = types.ModuleType('nova.virt.fake')
    fake.FakeDriver = StubFakeDriver
    compute = types.ModuleType('nova.cmd.compute')
    compute.main = compute_main or mock.Mock(return_value=0)
    virt = types.ModuleType('nova.virt')
    virt.fake = fake
    cmd = types.ModuleType('nova.cmd')
    cmd.compute = compute
    package = types.ModuleType('nova')
    package.virt, package.cmd = virt, cmd
    return {'nova': package, 'nova.virt': virt, 'nova.virt.fake': fake,
            'nova.cmd': cmd, 'nova.cmd.compute': compute}


class EnvironmentTest(unittest.TestCase):

    def test_environment_carries_the_hosts_resources(self):
        self.assertEqual({'HEATWATCHER_FAKE_VCPUS': '32',
                          'HEATWATCHER_FAKE_MEMORY_MB': '262144',
                          'HEATWATCHER_FAKE_DISK_GB': '1800'},
                         fakevirt.environment(HOST))

    def test_fractional_sizes_are_whole_numbers(self):
        env = fakevirt.environment({'vcpus': 8.0, 'memory_mb': 16384.0,
                                    'disk_gb': 100.7})
        self.assertEqual(('8', '16384', '100'),
                         (env['HEATWATCHER_FAKE_VCPUS'],
                          env['HEATWATCHER_FAKE_MEMORY_MB'],
                          env['HEATWATCHER_FAKE_DISK_GB']))


class StubDriverTest(unittest.TestCase):

    def setUp(self):
        modules = mock.patch.dict(sys.modules, _stub_nova())
        modules.start()
        self.addCleanup(modules.stop)

    def test_driver_reports_the_environments_resources(self):
        with mock.patch.dict(os.environ, fakevirt.environment(HOST)):
            driver = fakevirt.driver_class()(mock.sentinel.virtapi,
                                             read_only=True)
        self.assertIsInstance(driver, StubFakeDriver)
        self.assertEqual({'vcpus': 32, 'memory_mb': 262144,
                          'local_gb': 1800}, driver.resources)
        self.assertEqual((32, 262144, 1800), (driver.vcpus,
                                              driver.memory_mb,
                                              driver.local_gb))
        self.assertIs(mock.sentinel.virtapi, driver.virtapi)
        self.assertTrue(driver.read_only)
        # The class keeps Nova's defaults: only the instance is sized.
        self.assertEqual(1000, StubFakeDriver.vcpus)

    def test_driver_without_its_environment_fails_naming_it(self):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith('HEATWATCHER_FAKE_')}
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaisesRegex(KeyError, 'HEATWATCHER_FAKE_VCPUS'):
                fakevirt.driver_class()(None)

    def test_main_makes_the_driver_loadable_and_runs_nova_compute(self):
        seen = {}

        def compute_main():
            # What nova-compute sees when it loads its driver.
            seen['driver'] = getattr(sys.modules['nova.virt.fake'],
                                     'SnapshotFakeDriver', None)
            seen['argv0'] = sys.argv[0]
            return 7

        sys.modules.update(_stub_nova(compute_main))
        with mock.patch.object(sys, 'argv', ['fakevirt.py', '--config-file',
                                             'nova.conf']):
            self.assertEqual(7, fakevirt.main())
            self.assertEqual(['nova-compute', '--config-file', 'nova.conf'],
                             sys.argv)
        self.assertEqual('nova-compute', seen['argv0'])
        self.assertTrue(issubclass(seen['driver'], StubFakeDriver))
        self.assertEqual('SnapshotFakeDriver', seen['driver'].__name__)
        # The name the sandbox's compute_driver gives, in nova.virt.
        module, _, name = fakevirt.DRIVER.rpartition('.')
        self.assertEqual(('fake', 'SnapshotFakeDriver'), (module, name))


# -- with Nova ----------------------------------------------------------------

@pytest.fixture
def nova_conf():
    """Nova's CONF loaded from the files the sandbox writes for HOST."""
    pytest.importorskip('nova.virt.fake')
    from nova import conf as nova_conf_module

    tmp = tempfile.mkdtemp()
    layout = sandbox_layout.Layout(tmp, 26000, password='pw')
    shared = os.path.join(tmp, 'nova.conf')
    compute = os.path.join(tmp, 'compute.conf')
    config.write_ini(shared, nova.nova_sections(layout))
    config.write_ini(compute, nova.compute_sections(layout, HOST))
    conf = nova_conf_module.CONF
    conf(['--config-file', shared, '--config-file', compute],
         project='nova', default_config_files=[], default_config_dirs=[])
    try:
        yield conf
    finally:
        conf.reset()
        conf.clear()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def driver(nova_conf):
    """The driver as nova-compute loads it.

    ``compute_driver`` in ``nova.virt``, after :func:`fakevirt.main` has
    installed the class there.
    """
    from nova.virt import fake
    from oslo_utils import importutils

    stub = types.ModuleType('nova.cmd.compute')
    stub.main = mock.Mock(return_value=0)
    with mock.patch.dict(sys.modules, {'nova.cmd.compute': stub}), \
            mock.patch.object(sys, 'argv', ['fakevirt']), \
            mock.patch.dict(os.environ, fakevirt.environment(HOST)):
        fakevirt.main()
        try:
            loaded = importutils.import_object_ns(
                'nova.virt', nova_conf.compute_driver, None)
        finally:
            del fake.SnapshotFakeDriver
    loaded.init_host(nova_conf.host)
    return loaded


def test_nova_compute_runs_as_the_snapshot_host(nova_conf):
    assert nova_conf.host == 'a-01'
    assert nova_conf.compute_driver == 'fake.SnapshotFakeDriver'
    assert nova_conf.my_ip == '127.0.0.1'


def test_the_hypervisor_has_the_hosts_resources(driver):
    from nova.virt import fake

    assert isinstance(driver, fake.FakeDriver)
    assert driver.get_available_nodes() == ['a-01']
    resource = driver.get_available_resource('a-01')
    assert (resource['vcpus'], resource['memory_mb'],
            resource['local_gb']) == (32, 262144, 1800)
    assert resource['hypervisor_hostname'] == 'a-01'
    assert resource['hypervisor_type'] == 'fake'
    # Nova's own FakeDriver is left as it was.
    assert fake.FakeDriver.vcpus == 1000


def test_placement_inventory_is_the_hosts(driver):
    from nova.compute import provider_tree

    tree = provider_tree.ProviderTree()
    tree.new_root('a-01', '6c3a1f0e-1d2b-4c5d-8e9f-000000000001')
    driver.update_provider_tree(tree, 'a-01')
    inventory = tree.data('a-01').inventory
    got = {rc: (inv['total'], inv['reserved'], inv['allocation_ratio'],
                inv['max_unit']) for rc, inv in inventory.items()}
    # Totals from the snapshot host, reservations and ratios from its
    # compute.conf (disk reserved in GB again).
    assert got == {'VCPU': (32, 2, 4.0, 32),
                   'MEMORY_MB': (262144, 4096, 1.5, 262144),
                   'DISK_GB': (1800, 10, 2.0, 1800)}
