"""The inbox in Debian's Chromium: mark one read in place, and the top bar's count drops.

Run with `pytest -m browser`; a screenshot of the inbox lands in test-artifacts/.
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in
from tests.test_inbox import note_for

pytestmark = BROWSER_MARKS


def test_marking_one_read_in_the_inbox_drops_the_count(page, live_server, org, open_case):
    from taxservice.workflow.cases import services
    from taxservice.workflow.cases.models import Notification

    # Two real assignments (their notifications are written after each commit) and one
    # old notification already read.
    tasks = list(open_case("assisted", "approval").tasks.order_by("id"))
    for task in tasks:
        services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    older, newer = (Notification.objects.get(task=task, recipient=org.member) for task in tasks)
    task = tasks[0]
    note_for(
        org.member,
        task,
        minutes_ago=60,
        read=True,
        step="approve",
        message=f"任务 T{task.pk}（跨区域涉税事项报告）已审批通过。",
    )
    base = live_server.url

    sign_in(page, base, "member")
    badge = page.locator("#inbox-link .inbox-count")
    assert badge.inner_text() == "2"
    page.click("#inbox-link")
    page.wait_for_url(base + "/inbox/")
    assert page.locator("tr.inbox-row-unread").count() == 2
    shot(page, "inbox")

    page.locator(f"#notification-{newer.pk} button[type=submit]").click()
    page.locator(f"#notification-{newer.pk}:not(.inbox-row-unread)").wait_for()
    page.locator("#inbox-link[data-unread='1']").wait_for()
    assert badge.inner_text() == "1"
    assert page.url == base + "/inbox/"  # swapped in place, no reload
    assert page.locator(f"#notification-{older.pk}.inbox-row-unread").count() == 1
    assert Notification.objects.get(pk=newer.pk).read_at is not None
    shot(page, "inbox-one-read")

    page.click("form[action$='/inbox/read-all/'] button[type=submit]")
    page.locator("#inbox-link[data-unread='0']").wait_for()
    assert badge.count() == 0 and page.locator("tr.inbox-row-unread").count() == 0

    page.click(f"#notification-{older.pk} a[href$='/tasks/{task.pk}/']")
    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
