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
"""Browser tests of heatwatcher in Horizon's Optimization panels.

Debian's ``chromium`` and ``chromium-driver``, driven by selenium, headless;
nothing is downloaded at run time. Which dashboard the tests use, first
match wins:

- ``HEATWATCHER_DASHBOARD_URL`` (with ``OS_USERNAME`` and ``OS_PASSWORD``):
  a running Horizon, left running;
- ``HEATWATCHER_SANDBOX_DIR``: a running sandbox; Horizon is started for it
  (unless its ``env`` already prints a dashboard URL) and stopped after;
- otherwise ``heatwatcher sandbox up --dashboard`` in a fresh directory,
  brought down after the session.

Screenshots go to ``HEATWATCHER_SCREENSHOT_DIR`` (default: a temporary
directory, named at the end of the session).

As root, ``chromium`` and ``chromium-driver`` are installed with apt-get the
first time. A missing prerequisite (selenium, chromium, chromedriver,
Horizon) skips the suite on a workstation and fails it in CI (``CI=true``).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

CHROMIUM = os.environ.get('HEATWATCHER_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('HEATWATCHER_CHROMEDRIVER',
                              '/usr/bin/chromedriver')
CHROMIUM_FLAGS = (
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--window-size=1400,1000',
)
# Cold Horizon pages take tens of seconds on a busy two-core machine.
PAGE_TIMEOUT = 300
UP_TIMEOUT = 1800
BIN_DIR = os.path.dirname(sys.executable)


# What watcher-dashboard shows in a cell with no value (a unit of None).
EMPTY_CELL = '-'


def assert_lists_indicators(rows, goal):
    """``rows`` (``{name: table row}``) are the goal's indicators.

    Every indicator of ``goal``'s efficacy specification is listed, with
    its description and unit, and nothing else.
    """
    expected = goal.get_efficacy_specification(
        ).get_indicators_specifications()
    assert sorted(rows) == sorted(spec.name for spec in expected)
    for spec in expected:
        row = rows[spec.name]
        assert row['Description'] == spec.description, spec.name
        assert row['Unit'] == (spec.unit or EMPTY_CELL), spec.name


def in_ci():
    """True when running in CI, where nothing may be skipped."""
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def missing(what):
    """Fail in CI, skip elsewhere: prerequisite ``what`` is missing."""
    message = 'dashboard tests: %s' % what
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _command(name):
    path = os.path.join(BIN_DIR, name)
    if os.path.exists(path):
        return path
    return shutil.which(name) or missing('%s is not installed' % name)


def _parse_exports(text):
    """``{NAME: value}`` from ``export NAME=value`` lines."""
    values = {}
    for line in text.splitlines():
        match = re.match(r'export (\w+)=(.*)$', line.strip())
        if match:
            values[match.group(1)] = (shlex.split(match.group(2)) or [''])[0]
    return values


class Dashboard:
    """Where Horizon answers and how to log in."""

    def __init__(self, url, username, password):
        self.url = url if url.endswith('/') else url + '/'
        self.username = username
        self.password = password

    def page(self, path):
        return self.url + path.lstrip('/')


def _sandbox_env(heatwatcher, directory):
    result = subprocess.run([heatwatcher, 'sandbox', 'env', '--dir',
                             directory], capture_output=True, text=True,
                            timeout=120)
    if result.returncode:
        pytest.fail('heatwatcher sandbox env exited %d: %s'
                    % (result.returncode, result.stderr))
    return _parse_exports(result.stdout)


def _dashboard_for_sandbox(directory, heatwatcher):
    """The sandbox's dashboard; start Horizon for it if ``up`` did not.

    :returns: ``(Dashboard, started)`` where ``started`` says whether this
        function started Horizon (and the caller has to stop it).
    """
    from heatwatcher.sandbox import horizon
    from heatwatcher.sandbox import layout as sandbox_layout

    env = _sandbox_env(heatwatcher, directory)
    if env.get('HEATWATCHER_DASHBOARD_URL'):
        return Dashboard(env['HEATWATCHER_DASHBOARD_URL'],
                         env['OS_USERNAME'], env['OS_PASSWORD']), False
    layout, _services = sandbox_layout.Layout.load(directory)
    try:
        horizon.locate_packages(layout, horizon.horizon_python())
    except Exception as exc:
        missing(str(exc))
    started = time.monotonic()
    _server, url = horizon.start(layout, env['OS_AUTH_URL'])
    sys.stderr.write('horizon up in %.0f s at %s\n'
                     % (time.monotonic() - started, url))
    return Dashboard(url, env['OS_USERNAME'], env['OS_PASSWORD']), True


@pytest.fixture(scope='session')
def dashboard(request):
    """A Horizon with watcher-dashboard, logged into with the admin."""
    ensure_browser()  # before the sandbox: fail in seconds, not minutes
    url = os.environ.get('HEATWATCHER_DASHBOARD_URL')
    if url:
        for name in ('OS_USERNAME', 'OS_PASSWORD'):
            if not os.environ.get(name):
                pytest.fail('HEATWATCHER_DASHBOARD_URL is set but %s is not'
                            % name)
        yield Dashboard(url, os.environ['OS_USERNAME'],
                        os.environ['OS_PASSWORD'])
        return
    from heatwatcher.sandbox import horizon
    from heatwatcher.sandbox import layout as sandbox_layout

    heatwatcher = _command('heatwatcher')
    directory = os.environ.get('HEATWATCHER_SANDBOX_DIR')
    owned = not directory
    if owned:
        parent = os.environ.get('HEATWATCHER_SANDBOX_PARENT', '/var/tmp')
        directory = tempfile.mkdtemp(prefix='heatwatcher-dashboard-',
                                     dir=parent)
        base_port = sandbox_layout.find_free_base_port(26000)
        started = time.monotonic()
        up = subprocess.run(
            [heatwatcher, 'sandbox', 'up', '--dashboard', '--dir',
             directory, '--base-port', str(base_port)],
            capture_output=True, text=True, timeout=UP_TIMEOUT)
        sys.stderr.write('sandbox up in %.0f s\n'
                         % (time.monotonic() - started))
        if up.returncode:
            pytest.fail('heatwatcher sandbox up --dashboard exited %d:\n%s\n'
                        '%s' % (up.returncode, up.stdout, up.stderr))
    started_horizon = False
    try:
        board, started_horizon = _dashboard_for_sandbox(directory,
                                                        heatwatcher)
        yield board
    finally:
        if started_horizon:
            layout, _services = sandbox_layout.Layout.load(directory)
            horizon.stop(layout)
        if owned:
            from tests.integration import conftest as integration
            integration.tear_down(heatwatcher, directory, request)


@pytest.fixture(scope='session')
def screenshot_dir(tmp_path_factory):
    directory = os.environ.get('HEATWATCHER_SCREENSHOT_DIR')
    if directory:
        os.makedirs(directory, exist_ok=True)
    else:
        directory = str(tmp_path_factory.mktemp('screenshots'))
    yield directory
    sys.stderr.write('\ndashboard screenshots in %s\n' % directory)


def _absent_browser_packages():
    return [package for path, package in ((CHROMIUM, 'chromium'),
                                          (CHROMEDRIVER, 'chromium-driver'))
            if not os.access(path, os.X_OK)]


def ensure_browser():
    """Debian's chromium and chromedriver, installed with apt-get as root.

    Like the sandbox's own Debian packages, they are installed the first
    time when the tests run as root; otherwise a missing one is reported
    with the command that installs it.
    """
    absent = _absent_browser_packages()
    if not absent:
        return
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        missing('%s not installed (apt-get install %s)'
                % (', '.join(absent), ' '.join(absent)))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    for command in (['apt-get', 'update', '-q'],
                    ['apt-get', 'install', '-y', '-q',
                     '--no-install-recommends'] + absent):
        result = subprocess.run(command, capture_output=True, text=True,
                                env=env, timeout=1800)
        if result.returncode:
            missing('%s exited %d: %s' % (' '.join(command),
                                          result.returncode,
                                          result.stderr[-2000:]))
    still = _absent_browser_packages()
    if still:
        missing('%s still missing after apt-get install' % ', '.join(still))


def start_chromium(profile):
    """Headless Debian chromium through Debian's chromedriver.

    :param profile: a fresh directory for the browser's profile.
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome import service as chrome_service
    except ImportError:
        missing('selenium is not installed (pip install selenium)')
    ensure_browser()
    # Never let Selenium Manager look for, or download, a browser.
    os.environ['SE_OFFLINE'] = 'true'
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument('--user-data-dir=%s' % profile)
    driver = webdriver.Chrome(
        service=chrome_service.Service(executable_path=CHROMEDRIVER),
        options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    return driver


@pytest.fixture(scope='session')
def browser(tmp_path_factory):
    """The browser the tests share (logged in once)."""
    driver = start_chromium(tmp_path_factory.mktemp('chromium-profile'))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def fresh_browser(tmp_path_factory, dashboard, screenshot_dir):
    """A browser of its own, with no session cookie."""
    driver = start_chromium(tmp_path_factory.mktemp('chromium-profile'))
    try:
        yield Browser(driver, dashboard, screenshot_dir)
    finally:
        driver.quit()


# The window height that shows the whole page: Horizon scrolls a
# container, not the document; small scrolled boxes (a strategy's
# parameters) do not count.
_PAGE_HEIGHT_SCRIPT = '''
var extra = 0;
document.querySelectorAll('html, body, body *').forEach(function (e) {
  var overflow = getComputedStyle(e).overflowY;
  var scrolls = overflow === 'auto' || overflow === 'scroll'
      || e === document.scrollingElement;
  if (scrolls && e.clientHeight >= window.innerHeight / 2) {
    extra = Math.max(extra, e.scrollHeight - e.clientHeight);
  }
});
return window.outerHeight + extra;
'''


class Browser:
    """The browser, with the dashboard's pages and a screenshot helper."""

    def __init__(self, driver, dashboard, screenshot_dir):
        self.driver = driver
        self.dashboard = dashboard
        self.screenshot_dir = screenshot_dir
        self.load_seconds = {}

    def open(self, path):
        """Load a page of the dashboard; record how long it took."""
        started = time.monotonic()
        self.driver.get(self.dashboard.page(path))
        self.load_seconds[path] = time.monotonic() - started
        return self.driver

    def screenshot(self, name):
        """Save the whole page as ``NAME.png``; return its path."""
        from selenium.webdriver.common.by import By

        path = os.path.join(self.screenshot_dir, '%s.png' % name)
        # Grow the window to the page's height so nothing is cut off
        # (Horizon scrolls an inner container, not the document).
        height = self.driver.execute_script(_PAGE_HEIGHT_SCRIPT)
        width = self.driver.get_window_size()['width']
        self.driver.set_window_size(width, min(max(height + 20, 600), 8000))
        self.driver.find_element(By.TAG_NAME, 'body')
        self.driver.save_screenshot(path)
        self.driver.set_window_size(width, 1000)
        return path

    def logged_in(self):
        return bool(self.driver.get_cookie('sessionid')) and (
            '/auth/login' not in self.driver.current_url)

    def log_in(self, open_page=True):
        """Log in through the login form; return the seconds it took."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import ui

        if open_page:
            self.open('auth/login/')
        self.driver.find_element(By.ID, 'id_username').send_keys(
            self.dashboard.username)
        self.driver.find_element(By.ID, 'id_password').send_keys(
            self.dashboard.password)
        started = time.monotonic()
        self.driver.find_element(By.ID, 'loginBtn').click()
        ui.WebDriverWait(self.driver, PAGE_TIMEOUT).until(
            lambda driver: '/auth/login' not in driver.current_url)
        return time.monotonic() - started

    def table(self, table_id):
        """The rows of Horizon table ``table_id`` as ``{header: text}``."""
        from selenium.webdriver.common.by import By

        table = self.driver.find_element(By.ID, table_id)
        headers = [cell.text.strip() for cell in table.find_elements(
            By.CSS_SELECTOR, 'thead tr.table_column_header th')]
        rows = []
        for row in table.find_elements(By.CSS_SELECTOR, 'tbody tr'):
            cells = row.find_elements(By.TAG_NAME, 'td')
            if len(cells) != len(headers):  # "No items to display."
                continue
            rows.append({header: cell.text.strip()
                         for header, cell in zip(headers, cells)})
        return rows


@pytest.fixture(scope='session')
def session_browser(browser, dashboard, screenshot_dir):
    return Browser(browser, dashboard, screenshot_dir)


@pytest.fixture
def admin(session_browser):
    """The browser, logged in as the sandbox's admin."""
    session_browser.open('admin/goals/')
    if not session_browser.logged_in():
        session_browser.log_in()
    return session_browser
