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
"""Errors of the sandbox commands."""

from heatwatcher import exception


class SandboxError(exception.HeatwatcherException):
    """Base error of the sandbox."""

    msg_fmt = 'sandbox: %(reason)s'


class MissingPackages(SandboxError):
    """Debian packages are missing and cannot be installed here."""

    msg_fmt = ('missing Debian packages: %(packages)s; install them with '
               '"apt-get install %(packages)s" (as root) and run again')


class ServiceFailed(SandboxError):
    """A service did not come up."""

    msg_fmt = '%(service)s did not come up (%(reason)s); see %(log)s'


class StepFailed(SandboxError):
    """A set-up step (a command or a request) failed."""

    msg_fmt = '%(step)s failed: %(reason)s; see %(log)s'


class NotRunning(SandboxError):
    """No sandbox state in the directory."""

    msg_fmt = 'no sandbox in %(path)s (run "heatwatcher sandbox up" first)'


class AlreadyRunning(SandboxError):
    """A sandbox is already running in the directory."""

    msg_fmt = ('a sandbox is already running in %(path)s (%(services)s); '
               'run "heatwatcher sandbox down" first')
