"""In Debian's Chromium: a clerk sees a finished task in the feedback worklist, gives
feedback (the back office's result kept beside it), records the taxpayer's rating of 2 on
the case page, and the rectification task appears for the handler and in the list."""

from __future__ import annotations

import re
from importlib import import_module

from django.apps import apps
from django.urls import reverse

from tests.browser import BROWSER_MARKS, shot, sign_in
from tests.test_e2e_browser import sign_out

pytestmark = BROWSER_MARKS


def test_feedback_then_a_bad_rating_opens_a_rectification(page, live_server, org, items, open_case):
    from taxservice.workflow.cases import services
    from taxservice.workflow.quality.models import Rectification

    # An earlier transactional test may have flushed the shipped rectification item.
    import_module("taxservice.workflow.quality.migrations.0002_rectification_item").add_item(apps, None)
    task = open_case("assisted").tasks.get()
    for name, actor, kwargs in (
        ("transfer", org.clerk, {}),
        ("assign", org.member, {}),
        ("accept", org.member, {}),
        ("complete", org.member, {"result": "经核实，跨区域报告已确认"}),
    ):
        task = services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)
    base = live_server.url

    # --- the clerk: the feedback worklist
    sign_in(page, base, "clerk")
    page.goto(base + reverse("frontdesk:feedback"))
    row = page.locator(f"#feedback-{task.pk}")
    assert "经核实，跨区域报告已确认" in row.inner_text()
    shot(page, "feedback-1-worklist")
    row.locator("textarea[name=result]").fill("已电话告知纳税人办理结果")
    row.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/cases/{task.case_id}/"))

    # --- the case page: the result and the feedback side by side, then the rating
    block = page.locator(f"#task-{task.pk}")
    assert "经核实，跨区域报告已确认" in block.inner_text() and "已电话告知纳税人办理结果" in block.inner_text()
    form = page.locator("form.rating-form")
    form.wait_for()
    form.locator("input[name=score][value='2']").check()
    form.locator("textarea[name=comment]").fill("等待时间太长")
    form.locator("button[type=submit]").click()
    link = page.locator(".rectification-link")
    link.wait_for()
    rectification = Rectification.objects.get()
    assert f"T{rectification.task_id}" in link.inner_text() and org.member.name in link.inner_text()
    page.locator("#quality").scroll_into_view_if_needed()
    shot(page, "feedback-2-rated-2", full_page=True)
    sign_out(page)

    # --- the handler: the rectification task in "my tasks", worked like any task
    sign_in(page, base, "member")
    page.goto(base + reverse("my_tasks"))
    page.locator(f"a[href='/tasks/{rectification.task_id}/']").first.wait_for()
    shot(page, "feedback-3-my-tasks")
    page.goto(f"{base}/tasks/{rectification.task_id}/")
    assert "整改" in page.locator("h1").inner_text()
    sign_out(page)

    # --- the coordinator: the rectification list
    sign_in(page, base, "coordinator")
    page.goto(base + reverse("quality_rectifications"))
    listed = page.locator(f"#rectification-{rectification.pk}")
    assert org.member.name in listed.inner_text() and f"#{task.case_id}" in listed.inner_text()
    shot(page, "feedback-4-rectifications")


def test_an_inspector_draws_a_week_and_fails_a_task(page, live_server, org, items, open_case):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from taxservice.workflow.cases import services
    from taxservice.workflow.quality.models import Inspection, Rectification
    from taxservice.workflow.quality.services import previous_week_start

    import_module("taxservice.workflow.quality.migrations.0002_rectification_item").add_item(apps, None)
    week = previous_week_start()
    with time_machine.travel(timezone.make_aware(dt.datetime.combine(week + dt.timedelta(days=1), dt.time(10)))):
        for _ in range(3):
            task = open_case("assisted").tasks.get()
            for name, actor, kwargs in (
                ("transfer", org.clerk, {}),
                ("assign", org.member, {}),
                ("accept", org.member, {}),
                ("complete", org.member, {"result": "已办结"}),
                ("give_feedback", org.clerk, {"result": "已告知"}),
            ):
                services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)
    base = live_server.url

    sign_in(page, base, "inspector")
    page.goto(base + reverse("quality_inspections"))
    page.fill("#draw-size", "2")
    page.fill("#draw-seed", "7")
    page.locator("form[action$='/quality/draw/'] button[type=submit]").click()
    inspection = Inspection.objects.get()
    page.wait_for_url(re.compile(rf"/quality/inspections/{inspection.pk}/"))
    first = inspection.sample.order_by("position").first()
    block = page.locator(f"#sample-{first.task_id}")
    block.locator("input[name=check_on_time][value=fail]").check()
    block.locator("textarea[name=findings]").fill("超过承诺时限")
    block.locator("button[type=submit]").click()
    page.locator(f"#sample-{first.task_id} .result-fail").wait_for()
    rectification = Rectification.objects.get()
    assert f"T{rectification.task_id}" in page.locator(f"#sample-{first.task_id}").inner_text()
    shot(page, "quality-1-inspection", full_page=True)
    page.goto(base + reverse("quality_inspections"))
    assert "7" in page.locator("table.grid tbody tr").first.inner_text()
    shot(page, "quality-2-weeks")
