"""End to end in Debian's Chromium: the coordinator's dashboard.

Run with `pytest -m browser`. Screenshots land in test-artifacts/ (30-…). Like
tests/test_e2e_browser.py it drives /usr/bin/chromium and never runs `playwright install`.
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def _queued(org, open_case, key: str):
    from taxservice.workflow.cases import services

    task = open_case(key).tasks.get()
    return services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")


def test_the_coordinator_bulk_assigns_from_the_hub_queue(page, live_server, org, items, open_case):
    from taxservice.workflow.cases.models import Task
    from taxservice.workflow.routing.models import DispatchDecision, RoutingRule

    # The joint item's rule says manual here, so that its task waits in the queue (by default
    # the robot dispatches it at random inside the branch's team).
    RoutingRule.objects.filter(name="一问联办·后台").update(auto_dispatch=False)
    online = [_queued(org, open_case, "assisted") for _ in range(4)]
    joint = _queued(org, open_case, "joint")
    uncovered = _queued(org, open_case, "immediate")  # no rule covers it: an alert at the hub
    base = live_server.url

    sign_in(page, base, "coordinator")
    page.click("nav.mainnav >> text=任务统筹")
    page.wait_for_url(re.compile(r"/middle-office/hub/$"))
    # Alerts first, with their message.
    first = page.locator("table.hub-grid tbody tr").first
    assert f"T{uncovered.pk}" in first.inner_text() and "⚠" in first.inner_text()
    assert page.locator(".facet[data-facet=state] li.active .facet-count").inner_text() == "6"
    shot(page, "30-hub-queue")

    # A facet count opens exactly that many rows.
    page.click(".facet[data-facet=team] a:has-text('线上办理团队')")
    page.wait_for_url(re.compile(r"team=ONLINE"))
    assert page.locator("table.hub-grid tbody tr").count() == 4
    assert page.locator(".chips .chip").inner_text().startswith("团队")

    # Tick three tasks and assign them to a team member.
    for task in online[:3]:
        page.check(f"#hub-row-{task.pk} input.tick")
    assert page.inner_text("#bulk-selected") == "3"
    page.select_option("#id_assignee", str(org.member.pk))
    shot(page, "31-hub-ticked")
    page.click("button[name=action][value=assign]")
    page.wait_for_selector(".messages")
    assert "已将 3 项任务分派给中台王" in page.inner_text(".messages")
    assert page.locator("table.hub-grid tbody tr").count() == 1
    assigned = Task.objects.filter(pk__in=[t.pk for t in online[:3]])
    assert set(assigned.values_list("state", "assignee")) == {("assigned", org.member.pk)}

    # They are on the "assigned" list now, with their assignee.
    page.click(".facet[data-facet=state] a:has-text('已分派')")
    page.wait_for_url(re.compile(r"state=assigned"))
    for task in online[:3]:
        assert "中台王" in page.inner_text(f"#hub-row-{task.pk}")
    shot(page, "32-hub-assigned")

    # All or nothing: a member of another team cannot take the 一问联办 task.
    page.goto(base + "/middle-office/hub/")
    page.check(f"#hub-row-{online[3].pk} input.tick")
    page.check(f"#hub-row-{joint.pk} input.tick")
    page.select_option("#id_assignee", str(org.member.pk))
    page.click("button[name=action][value=assign]")
    page.wait_for_selector(".bulk-errors")
    assert "没有做任何更改" in page.inner_text(".bulk-errors")
    assert f"T{joint.pk}" in page.inner_text(".bulk-errors")
    assert page.locator(f"#hub-row-{joint.pk}.row-refused").count() == 1
    assert Task.objects.get(pk=online[3].pk).state == "queued"
    shot(page, "33-hub-refused")

    # Dispatch now: the pipeline chooses, and the task page shows its decision record.
    page.uncheck(f"#hub-row-{joint.pk} input.tick")
    page.click("button[name=action][value=dispatch]")
    page.wait_for_selector(".messages")
    assert "立即派单：1 项任务中有 1 项已分派" in page.inner_text(".messages")
    decision = DispatchDecision.objects.get(task=online[3])
    page.goto(base + f"/tasks/{online[3].pk}/")
    page.locator("#dispatch-decisions").scroll_into_view_if_needed()
    record = page.inner_text(f"#decision-{decision.pk}")
    assert "复算结果一致" in record and "统筹李" in record and "业务提级办" in record
    shot(page, "34-task-decision-record")


def test_the_robot_staff_upload_and_rules_screens(page, live_server, org, items, taxpayer, settings):
    from taxservice.workflow.routing.models import RobotRun, RobotSettings, RoutingRule, UploadBatch

    assert settings.TAXSERVICE_BACKGROUND_JOBS == "inline"  # conftest: the job runs in the request
    base = live_server.url
    sign_in(page, base, "coordinator")

    # The robot: its runs, and a pause with a reason.
    RobotRun.objects.create(trigger="transfer", duration_ms=12, dispatched=1)
    RobotRun.objects.create(
        trigger="sweep",
        duration_ms=85,
        dispatched=14,
        skipped=3,
        skipped_reasons={"no_eligible:capacity,on_duty": 3},
    )
    page.goto(base + "/middle-office/hub/robot/")
    assert page.locator("#robot-runs tbody tr").count() == 2
    assert "机器人正在运行" in page.inner_text("#robot-state")
    page.fill("#robot-state input[name=reason]", "系统维护，暂停自动派单")
    page.click("#robot-state button[name=paused][value=true]")
    page.wait_for_selector(".messages")
    assert "机器人已暂停" in page.inner_text("#robot-state")
    assert RobotSettings.load().paused
    shot(page, "35-robot-paused")

    # Staff: take someone off duty in place (htmx swaps the row).
    page.goto(base + "/middle-office/hub/staff/")
    row = page.locator(f"#staff-row-{org.member2.pk}")
    row.locator("button", has_text="设为离岗").click()
    page.locator(f"#staff-row-{org.member2.pk}.row-off-duty").wait_for()
    assert "已离岗" in page.inner_text(f"#staff-row-{org.member2.pk}")
    page.locator("#duty-tabs a:has-text('离岗') .muted", has_text="1").wait_for()  # the counts follow
    org.member2.refresh_from_db()
    assert not org.member2.on_duty
    shot(page, "36-staff-on-duty")

    # Upload: a clean file runs to 100 %.
    page.goto(base + "/middle-office/hub/uploads/")
    content = (
        f"source,taxpayer,item,notes\nrisk,{taxpayer.credit_code},A001,风险提示\ngrid,{taxpayer.credit_code},J001,\n"
    )
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "tasks.csv", "mimeType": "text/csv", "buffer": content.encode("utf-8")}],
    )
    shot(page, "37-upload-form")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/hub/uploads/\d+/$"))
    page.locator("[role=progressbar][aria-valuenow='100']").wait_for()
    assert "已导入：新建 2 项任务" in page.inner_text("#upload-progress")
    assert UploadBatch.objects.get(filename="tasks.csv").state == "done"
    shot(page, "38-upload-done")

    # A batch still being checked (as on a worker): the bar polls every second and stops at 100 %.
    running = UploadBatch.objects.create(
        uploaded_by=org.coordinator,
        filename="big.csv",
        total_rows=400,
        processed_rows=100,
        state=UploadBatch.State.VALIDATING,
    )
    page.goto(base + f"/middle-office/hub/uploads/{running.pk}/")
    assert page.get_attribute("[role=progressbar]", "aria-valuenow") == "25"
    UploadBatch.objects.filter(pk=running.pk).update(processed_rows=300)
    page.locator("[role=progressbar][aria-valuenow='75']").wait_for()
    UploadBatch.objects.filter(pk=running.pk).update(
        processed_rows=400, state=UploadBatch.State.DONE, created_count=400
    )
    page.locator("[role=progressbar][aria-valuenow='100']").wait_for()
    assert page.get_attribute("#upload-progress", "hx-trigger") is None  # polling stopped
    assert "新建 400 项任务" in page.inner_text("#upload-progress")

    # A file with bad rows: the per-row report, nothing imported.
    page.goto(base + "/middle-office/hub/uploads/")
    bad = f"source,taxpayer,item,notes\nfax,{taxpayer.credit_code},A001,\nrisk,91330100XXXXXXXXXX,NOPE,\n"
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode("utf-8")}],
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/hub/uploads/\d+/$"))
    page.locator("[role=progressbar][aria-valuenow='100']").wait_for()
    assert "没有导入任何内容" in page.inner_text("#upload-progress")
    assert page.locator("#upload-errors tbody tr").count() == 3
    shot(page, "39-upload-rejected")

    # Rules: the list, then an edit with a reason, which shows in the history.
    page.goto(base + "/middle-office/hub/rules/")
    assert page.locator("#rules-table tbody tr").count() == RoutingRule.objects.count()
    shot(page, "40-routing-rules")
    rule = RoutingRule.objects.get(name="业务提级办")
    page.click(f"#rule-{rule.pk} a:has-text('编辑')")
    page.wait_for_url(re.compile(rf"/hub/rules/{rule.pk}/$"))
    page.select_option("#id_chooser", "round_robin")
    page.fill("#id_reason", "线上团队人手均衡后改为轮流派单")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "版本 2" in page.inner_text(".messages")
    assert "轮流派单" in page.inner_text("#rule-history")
    rule.refresh_from_db()
    assert (rule.version, rule.chooser) == (2, "round_robin")
    shot(page, "41-rule-edited")

    # The same hub in English, for the eye.
    page.click(".lang-switch button[value=en]")
    page.wait_for_load_state()
    page.goto(base + "/middle-office/hub/")
    assert "Coordination hub" in page.inner_text("main")
    shot(page, "42-hub-english")
