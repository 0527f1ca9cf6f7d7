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
"""Issue 18, points 1 and 2: logging in, and heatwatcher's goals with
their efficacy specification in Horizon's Optimization panel."""

import pytest

from heatwatcher.goals import heat_reuse
from heatwatcher.goals import thermal_event_mitigation
from tests.dashboard import conftest

GOALS = (heat_reuse.HeatReuse,
         thermal_event_mitigation.ThermalEventMitigation)


def test_login(fresh_browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import ui

    fresh_browser.open('auth/login/')
    assert fresh_browser.driver.find_element(By.ID, 'id_username')
    fresh_browser.screenshot('01-login')
    seconds = fresh_browser.log_in(open_page=False)
    assert fresh_browser.logged_in(), fresh_browser.driver.current_url
    # Horizon loads its header (with the user menu) after the page.
    user_name = ui.WebDriverWait(fresh_browser.driver, 120).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR,
                                           '.user-menu .user-name'))
    assert user_name.text.strip() == fresh_browser.dashboard.username
    print('login took %.1f s' % seconds)


def test_goal_list_shows_heatwatcher_goals(admin):
    admin.open('admin/goals/')
    rows = admin.table('goals')
    names = {row['Name'] for row in rows}
    for goal in GOALS:
        assert goal.get_name() in names
    admin.screenshot('02-goals')


def _open_goal(admin, goal_name):
    """Open the detail page of goal ``goal_name`` from the goal list."""
    from selenium.webdriver.common.by import By

    admin.open('admin/goals/')
    table = admin.driver.find_element(By.ID, 'goals')
    for row in table.find_elements(By.CSS_SELECTOR, 'tbody tr'):
        cells = [cell.text.strip() for cell in
                 row.find_elements(By.TAG_NAME, 'td')]
        if goal_name in cells:
            href = row.find_element(By.TAG_NAME, 'a').get_attribute('href')
            admin.driver.get(href)
            return href
    pytest.fail('goal %s is not in the goal list' % goal_name)


@pytest.mark.parametrize('goal', GOALS, ids=[g.get_name() for g in GOALS])
def test_goal_page_lists_the_efficacy_specification(admin, goal):
    _open_goal(admin, goal.get_name())
    admin.screenshot('03-goal-%s' % goal.get_name())
    assert goal.get_display_name() in admin.driver.title
    shown = {row['Name']: row for row in admin.table(
        'efficacy_specification')}
    conftest.assert_lists_indicators(shown, goal)
