"""In Debian's Chromium: a branch chief approves two tasks of one item in bulk from the
approval queue, with one opinion; the page is in Chinese."""

from __future__ import annotations

from django.urls import reverse

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def test_a_chief_approves_two_tasks_in_bulk_from_the_queue(page, live_server, org, items, open_case):
    from taxservice.workflow.cases import services
    from taxservice.workflow.cases.models import TaskState, TaskTransition

    tasks = []
    for result in ("已实地核查，可以注销", "已核实清税情况"):
        task = open_case("joint").tasks.get()
        services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        task.refresh_from_db()  # the robot may have dispatched it already (after the commit)
        if task.state == TaskState.QUEUED:
            services.task_transition(task_id=task.pk, actor=org.back_member, name="assign")
        for name, extra in (("accept", {}), ("submit_for_approval", {"result": result})):
            task = services.task_transition(task_id=task.pk, actor=org.back_member, name=name, **extra)
        tasks.append(task)
    base = live_server.url

    sign_in(page, base, "chief")
    page.goto(base + reverse("back_office:approvals"))
    bar = page.locator("#bulk-approve")
    assert "批量审批" in bar.inner_text()
    for task in tasks:
        row = page.locator("table.grid tbody tr", has_text=f"T{task.pk}")
        text = row.inner_text()
        assert "第 1 级，共 1 级" in text and "已等待" in text and "流转记录" in text
        row.locator("input[name=task_ids]").check()
    bar.locator("input[name=reason]").fill("情况属实，同意")
    shot(page, "bulk-approval-1-ticked")
    bar.locator("button", has_text="批量审批通过").click()
    page.locator(".messages", has_text="已审批通过").wait_for()
    shot(page, "bulk-approval-2-done")
    for task in tasks:
        assert page.locator("table.grid tbody tr", has_text=f"T{task.pk}").count() == 0
        task.refresh_from_db()
        assert task.state == TaskState.DONE
    assert (
        list(TaskTransition.objects.filter(task__in=tasks, transition="approve").values_list("reason", flat=True))
        == ["情况属实，同意"] * 2
    )

    # The desk: the branch's work, each figure a link to its list.
    held = open_case("joint").tasks.get()
    services.task_transition(task_id=held.pk, actor=org.clerk, name="transfer")
    held.refresh_from_db()
    if held.state == TaskState.QUEUED:
        services.task_transition(task_id=held.pk, actor=org.back_member, name="assign")
    page.goto(base + reverse("back_office:desk"))
    assert "分局长统筹台" in page.locator("h1").inner_text()
    assert "外出期间的代理人" in page.locator("#deputy").inner_text()
    shot(page, "desk-1-overview", full_page=True)
    page.locator("#desk-people tr", has_text=org.back_member.name).locator("a[data-figure=open]").click()
    page.wait_for_url(lambda url: "/back-office/desk/tasks/" in url)
    assert page.locator("table.grid tbody tr", has_text=f"T{held.pk}").count() == 1
    assert "共 1 项任务" in page.locator(".list-count").inner_text()
    shot(page, "desk-2-list")
