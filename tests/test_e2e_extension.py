"""In Debian's Chromium: an assignee asks for more time, the branch chief grants it from
the approval queue, and the task's countdown moves by the days granted."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from tests.browser import BROWSER_MARKS, shot, sign_in
from tests.test_e2e_browser import sign_out

pytestmark = BROWSER_MARKS


def test_an_extension_requested_granted_and_the_countdown_moves(page, live_server, org, items, open_case):
    from taxservice.workdays.calendar import WorkCalendar
    from taxservice.workflow.cases import services

    task = open_case("joint").tasks.get()
    for name, actor in (("transfer", org.clerk), ("assign", org.back_member), ("accept", org.back_member)):
        if name == "assign":
            task.refresh_from_db()
            if task.state == "assigned":
                continue  # the robot dispatched it to the branch team's only member (随机派单)
        task = services.task_transition(task_id=task.pk, actor=actor, name=name)
    due_before = task.due_at
    base = live_server.url

    # --- the assignee, on the task page
    sign_in(page, base, "back")
    page.goto(f"{base}/tasks/{task.pk}/")
    clocks = page.locator("#clocks")
    before_text = clocks.inner_text()
    assert "对纳税人承诺时限" in before_text and "签收" in before_text and "剩余" in before_text
    page.locator("details.step-folded summary", has_text="申请延期").click()
    form = page.locator("form.step-request_extension")
    form.locator("button[type=submit]").click()  # blank: refused in the browser or by the form
    form.locator("input[name=days]").fill("3")
    form.locator("textarea[name=reason]").fill("需实地核查，纳税人经营地址变更")
    shot(page, "extension-1-request")
    form.locator("button[type=submit]").click()
    page.locator("#clocks", has_text="等待分局长决定").wait_for()
    sign_out(page)

    # --- the branch chief, in the approval queue
    sign_in(page, base, "chief")
    page.goto(base + reverse("back_office:approvals"))
    page.locator("nav.tabs a", has_text="延期申请").click()
    page.wait_for_url(re.compile(r"show=extensions"))
    row = page.locator("table.grid tbody tr", has_text=f"T{task.pk}")
    assert "+3" in row.inner_text() and "需实地核查" in row.inner_text()
    shot(page, "extension-2-queue")
    row.locator("input[name=reason]").fill("同意延期")
    row.locator("button", has_text="批准延期").click()
    page.locator(".messages", has_text="批准延期").wait_for()
    assert page.locator("table.grid tbody tr", has_text=f"T{task.pk}").count() == 0
    sign_out(page)

    # --- the assignee sees the countdown moved
    task.refresh_from_db()
    assert task.due_at == WorkCalendar.load().shift_working_days(due_before, 3)
    sign_in(page, base, "back")
    page.goto(f"{base}/tasks/{task.pk}/")
    after_text = page.locator("#clocks").inner_text()
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") in after_text
    assert timezone.localtime(due_before).strftime("%Y-%m-%d %H:%M") not in after_text
    assert "延期已批准 3 个工作日" in after_text
    shot(page, "extension-3-countdown-moved", full_page=True)
