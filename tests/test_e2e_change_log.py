"""End to end in Debian's Chromium: the change log on the pages of what changed.

Run with `pytest -m browser`. Screenshots land in test-artifacts/ (70-…).
"""

from __future__ import annotations

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def test_the_robot_page_and_the_staff_page_show_who_changed_what(page, live_server, org):
    base = live_server.url
    sign_in(page, base, "coordinator")

    page.goto(base + "/middle-office/hub/robot/")
    assert "尚无变更记录" in page.inner_text("#change-log")
    page.fill("#robot-state input[name=reason]", "系统升级，暂停自动派单")
    page.click("#robot-state button[name=paused][value=true]")
    page.wait_for_selector(".messages")
    log = page.inner_text("#change-log")
    assert "系统升级，暂停自动派单" in log and org.coordinator.name in log
    shot(page, "70-robot-change-log", full_page=True)

    page.goto(base + "/middle-office/hub/staff/")
    page.locator(f"#staff-row-{org.member2.pk}").locator("button", has_text="设为离岗").click()
    page.locator(f"#staff-row-{org.member2.pk}.row-off-duty").wait_for()
    page.reload()
    log = page.inner_text("#change-log")
    assert org.member2.name in log and org.coordinator.name in log
    shot(page, "71-staff-change-log", full_page=True)
