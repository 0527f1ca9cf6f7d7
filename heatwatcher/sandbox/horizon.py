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
"""Horizon with watcher-dashboard, served by Django's server on 127.0.0.1.

``heatwatcher sandbox up --dashboard`` runs the Optimization panels of the
Watcher dashboard against the sandbox's Keystone, so that what operators
see of heatwatcher in Horizon can be looked at and tested in a browser.

Files, all under the sandbox directory except the panel files::

    DIR/horizon/local/local_settings.py   this sandbox's Horizon settings
    DIR/horizon/static/                   the compiled (SCSS) stylesheets
    DIR/logs/horizon.log                  Django's server log
    DIR/pids/horizon.pid                  its pid (``down`` stops by it)

Horizon's ``settings.py`` imports ``local.local_settings`` after it has
appended its own directory to ``sys.path``; the server runs with
``DIR/horizon`` first on ``PYTHONPATH``, so it finds this sandbox's
settings and several sandboxes can share one Horizon installation.

watcher-dashboard's ``enabled/_31*.py`` files have to be in Horizon's own
``openstack_dashboard/local/enabled/`` package (Horizon imports that
package by name): they are copied there once, as watcher-dashboard's
installation guide does, and left in place by ``down``.

No ``collectstatic`` is needed: ``runserver --insecure`` serves the static
files from Django's finders, and django-compressor's finder serves the
stylesheets it compiles into ``DIR/horizon/static``.

Horizon and watcher-dashboard are looked for in the Python environment
running heatwatcher, or in the one whose interpreter
``$HEATWATCHER_HORIZON_PYTHON`` names.
"""

import filecmp
import glob
import json
import os
import secrets
import shutil
import subprocess
import sys

import requests

from heatwatcher.sandbox import errors
from heatwatcher.sandbox import layout as sandbox_layout
from heatwatcher.sandbox import process

SERVICE_NAME = 'horizon'
# The dashboard's port, from the sandbox's base port, unless
# ``layout.PORT_OFFSETS`` names one: the port ``layout.find_free_base_port``
# leaves free between two sandboxes.
PORT_OFFSET = 9
PYTHON_ENV_VARIABLE = 'HEATWATCHER_HORIZON_PYTHON'
SETTINGS_MODULE = 'openstack_dashboard.settings'
LOGIN_PATH = 'auth/login/'
# Django compiles its templates and Horizon its stylesheets on the first
# requests; on a busy two-core machine that takes a while.
READY_TIMEOUT = 300

_LOCATE_PACKAGES = '''
import json, os
import openstack_dashboard.local.enabled as local_enabled
import watcher_dashboard.local.enabled as watcher_enabled
import horizon, watcher_dashboard
print(json.dumps({
    "local_enabled": os.path.dirname(local_enabled.__file__),
    "watcher_enabled": os.path.dirname(watcher_enabled.__file__),
    "horizon_version": getattr(horizon, "__version__", None),
}))
'''

_LOCAL_SETTINGS = '''\
# Written by heatwatcher sandbox: Horizon's settings for this sandbox.
# Horizon's settings.py imports this module as local.local_settings.
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = {secret_key!r}
WEBROOT = '/'
# The default landing page, the project overview, needs Nova's usage API,
# which the sandbox's Nova emulator does not have (a server error): land on
# the Optimization panel instead.
LOGIN_REDIRECT_URL = '/admin/goals/'

OPENSTACK_HOST = '127.0.0.1'
OPENSTACK_KEYSTONE_URL = {keystone_url!r}
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'

# No memcached: the session lives in a signed cookie, the cache in memory
# (one server process).
SESSION_ENGINE = 'django.contrib.sessions.backends.signed_cookies'
CACHES = {{
    'default': {{
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
    }},
}}

# Stylesheets and scripts compressed on first use (a page then loads about
# ten files instead of about 250); the output goes under STATIC_ROOT.
COMPRESS_ENABLED = True
COMPRESS_OFFLINE = False
STATIC_ROOT = {static_root!r}
MEDIA_ROOT = {media_root!r}

TIME_ZONE = 'UTC'

LOGGING = {{
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {{
        'plain': {{'format': '%(asctime)s %(levelname)s %(name)s '
                            '%(message)s'}},
    }},
    'handlers': {{
        'console': {{'class': 'logging.StreamHandler',
                     'formatter': 'plain'}},
    }},
    'root': {{'handlers': ['console'], 'level': 'WARNING'}},
}}
'''


def port(layout):
    """The dashboard's port in sandbox ``layout``."""
    return layout.base_port + sandbox_layout.PORT_OFFSETS.get(
        SERVICE_NAME, PORT_OFFSET)


def dashboard_url(dashboard_port):
    """Horizon's root URL (its login page is ``auth/login/`` under it)."""
    return 'http://%s:%d/' % (sandbox_layout.HOST, dashboard_port)


def horizon_python():
    """The interpreter of the environment that has Horizon installed."""
    return os.environ.get(PYTHON_ENV_VARIABLE) or sys.executable


def settings_dir(layout):
    """``DIR/horizon``: put first on the server's ``PYTHONPATH``."""
    return layout.path('horizon')


def locate_packages(layout, python):
    """Where Horizon's and watcher-dashboard's ``enabled`` packages are.

    :returns: ``{'local_enabled': ..., 'watcher_enabled': ...,
        'horizon_version': ...}``
    :raises: :class:`~heatwatcher.sandbox.errors.StepFailed` if ``python``
        cannot import Horizon and watcher-dashboard.
    """
    try:
        result = subprocess.run([python, '-c', _LOCATE_PACKAGES],
                                capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise errors.StepFailed(step='looking for Horizon', reason=str(exc),
                                log=layout.log(SERVICE_NAME))
    if result.returncode:
        last_line = (result.stderr.strip().splitlines() or ['?'])[-1]
        raise errors.StepFailed(
            step='looking for Horizon',
            reason='%s cannot import horizon and watcher_dashboard (%s); '
                   'install them with "pip install horizon '
                   'watcher-dashboard" or set %s to the python of an '
                   'environment that has them'
                   % (python, last_line, PYTHON_ENV_VARIABLE),
            log=layout.log(SERVICE_NAME))
    return json.loads(result.stdout)


def enable_watcher_panels(local_enabled_dir, watcher_enabled_dir):
    """Copy watcher-dashboard's ``_31*.py`` files into Horizon's.

    Files already there with the same content are left alone.

    :returns: the names of the files copied.
    """
    copied = []
    for source in sorted(glob.glob(os.path.join(watcher_enabled_dir,
                                                '_31*.py'))):
        target = os.path.join(local_enabled_dir, os.path.basename(source))
        if os.path.exists(target) and filecmp.cmp(source, target,
                                                  shallow=False):
            continue
        shutil.copyfile(source, target)
        copied.append(os.path.basename(source))
    if not glob.glob(os.path.join(local_enabled_dir, '_31*.py')):
        raise errors.SandboxError(reason='no _31*.py panel files in %s'
                                         % watcher_enabled_dir)
    return copied


def write_local_settings(layout, keystone_url):
    """Write ``DIR/horizon/local/local_settings.py``; return its path."""
    base = settings_dir(layout)
    package = os.path.join(base, 'local')
    os.makedirs(package, exist_ok=True)
    for name in ('static', 'media'):
        os.makedirs(os.path.join(base, name), exist_ok=True)
    with open(os.path.join(package, '__init__.py'), 'w'):
        pass
    path = os.path.join(package, 'local_settings.py')
    with open(path, 'w') as settings_file:
        settings_file.write(_LOCAL_SETTINGS.format(
            secret_key=secrets.token_hex(32), keystone_url=keystone_url,
            static_root=os.path.join(base, 'static'),
            media_root=os.path.join(base, 'media')))
    return path


def service(layout, dashboard_port, python):
    """Django's server running Horizon, as a sandbox service."""
    base = settings_dir(layout)
    python_path = [base]
    if os.environ.get('PYTHONPATH'):
        python_path.append(os.environ['PYTHONPATH'])
    return process.Service(
        layout, SERVICE_NAME,
        [python, '-m', 'django', 'runserver', '--noreload', '--insecure',
         '%s:%d' % (sandbox_layout.HOST, dashboard_port)],
        env={'DJANGO_SETTINGS_MODULE': SETTINGS_MODULE,
             'PYTHONPATH': os.pathsep.join(python_path),
             'PYTHONUNBUFFERED': '1'},
        cwd=base, port=dashboard_port)


def login_page_answers(url):
    """True when Horizon's login form is served at ``url``."""
    response = requests.get(url + LOGIN_PATH, timeout=60)
    return response.status_code == 200 and 'id_username' in response.text


def configure(layout, keystone_url, python=None):
    """Write the settings and enable the panels; return the interpreter."""
    python = python or horizon_python()
    layout.make_dirs('horizon')
    where = locate_packages(layout, python)
    enable_watcher_panels(where['local_enabled'], where['watcher_enabled'])
    write_local_settings(layout, keystone_url)
    return python


def start(layout, keystone_url, dashboard_port=None, python=None,
          timeout=READY_TIMEOUT):
    """Configure and start Horizon; wait until its login page answers.

    :returns: ``(service, url)``, the started
        :class:`~heatwatcher.sandbox.process.Service` and Horizon's root URL.
    :raises: :class:`~heatwatcher.sandbox.errors.ServiceFailed` if the
        server exits or its login page does not answer in time (the server
        is then stopped).
    """
    dashboard_port = dashboard_port or port(layout)
    if not sandbox_layout.port_free(dashboard_port):
        raise errors.ServiceFailed(
            service=SERVICE_NAME,
            reason='port %d is already in use' % dashboard_port,
            log=layout.log(SERVICE_NAME))
    python = configure(layout, keystone_url, python)
    server = service(layout, dashboard_port, python)
    server.start()
    url = dashboard_url(dashboard_port)
    try:
        server.wait(lambda: login_page_answers(url), timeout=timeout,
                    what='serving its login page')
    except BaseException:
        stop(layout)
        raise
    return server, url


def stop(layout):
    """Stop the dashboard by its recorded pid."""
    return process.stop(layout, SERVICE_NAME)
