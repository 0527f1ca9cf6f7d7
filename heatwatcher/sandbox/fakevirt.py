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
"""Nova's ``fake`` virt driver, sized as one snapshot host.

Nova loads a compute driver only from its own ``nova.virt`` package, so the
sandbox starts each ``nova-compute`` as ``python -m
heatwatcher.sandbox.fakevirt --config-file ...``: that adds this class to
``nova.virt.fake`` as ``fake.SnapshotFakeDriver`` (the name the sandbox's
``compute_driver`` gives), then runs ``nova-compute``'s own ``main()``.
Nova's own ``FakeDriver`` reports 1000 vCPUs, 800 GB of
RAM and 600 TB of disk on every host; this one reports the vCPUs, RAM and
disk of the snapshot host the service stands for, read from the
environment ``heatwatcher sandbox up`` gives each ``nova-compute``. Every
other behaviour (spawn, live migration, power) is Nova's fake driver.
"""

import os
import sys

DRIVER = 'fake.SnapshotFakeDriver'
ENV_VCPUS = 'HEATWATCHER_FAKE_VCPUS'
ENV_MEMORY_MB = 'HEATWATCHER_FAKE_MEMORY_MB'
ENV_DISK_GB = 'HEATWATCHER_FAKE_DISK_GB'


def environment(host):
    """The environment of the ``nova-compute`` of snapshot ``host``."""
    return {ENV_VCPUS: str(int(host['vcpus'])),
            ENV_MEMORY_MB: str(int(host['memory_mb'])),
            ENV_DISK_GB: str(int(host['disk_gb']))}


def driver_class():
    """``SnapshotFakeDriver``: the fake driver sized from the environment.

    Built on demand: Nova is imported only in ``nova-compute``, after its
    entry point has set up its concurrency.
    """
    from nova.virt import fake

    class SnapshotFakeDriver(fake.FakeDriver):
        """The fake driver with the resources of one snapshot host."""

        def __init__(self, virtapi, read_only=False):
            # FakeDriver.__init__ sizes its resources from these.
            self.vcpus = int(os.environ[ENV_VCPUS])
            self.memory_mb = int(os.environ[ENV_MEMORY_MB])
            self.local_gb = int(os.environ[ENV_DISK_GB])
            super().__init__(virtapi, read_only=read_only)

    return SnapshotFakeDriver


def main():
    """``nova-compute`` with ``fake.SnapshotFakeDriver`` loadable."""
    # nova-compute's entry point first: importing it sets up Nova's
    # concurrency before anything else of Nova is imported.
    from nova.cmd import compute
    from nova.virt import fake

    fake.SnapshotFakeDriver = driver_class()
    sys.argv[0] = 'nova-compute'
    return compute.main()


if __name__ == '__main__':
    sys.exit(main())
