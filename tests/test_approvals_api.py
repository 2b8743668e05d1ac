"""The approval queue's API: what the caller may decide now (with the step and the time
waited), bulk approval all or nothing, delegations to a deputy bounded by their window,
and reminders (催办 / 督办) landing in the holder's inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from taxservice.org.models import Delegation, Role
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Notification, Task, TaskState, TaskTransition
from tests.factories import ItemFactory, StaffFactory
from tests.test_desk import branch_b_task, joint_task

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def awaiting(org, open_case, result: str = "已实地核查，情况属实") -> Task:
    task = joint_task(org, open_case, to="in_progress")
    return services.task_transition(task_id=task.pk, actor=org.back_member, name="submit_for_approval", result=result)


def test_the_approvals_are_what_the_caller_may_decide_with_step_and_time_waited(api, org, open_case, items):
    mine = awaiting(org, open_case)
    # The chief stepped in on this one's work (took the materials in): four eyes keeps it off their list.
    worked = joint_task(org, open_case, to="in_progress")
    services.task_transition(task_id=worked.pk, actor=org.back_member, name="request_materials", reason="补正材料")
    services.task_transition(task_id=worked.pk, actor=org.chief, name="receive_materials")
    worked = services.task_transition(
        task_id=worked.pk, actor=org.back_member, name="submit_for_approval", result="已核"
    )
    assert worked.state == TaskState.AWAITING_APPROVAL
    body = api(org.chief).get("/api/v1/approvals/").json()
    rows = {row["id"]: row for row in body["results"]}
    assert set(rows) == {mine.pk}
    row = rows[mine.pk]
    assert (row["step"], row["of"], row["item"], row["result"]) == (1, 1, "J001", "已实地核查，情况属实")
    assert row["waited_seconds"] >= 0 and row["submitted_at"] and row["due_at"]
    # The other branch's chief sees none of it; a team member may not ask.
    assert api(org.chief2).get("/api/v1/approvals/").json()["count"] == 0
    assert api(org.back_member).get("/api/v1/approvals/").status_code == 403


def test_two_steps_team_lead_then_chief(api, org, open_case, items):
    items["joint"].approval_levels = 2
    items["joint"].save()
    lead = StaffFactory(user__username="lead", home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic])
    task = awaiting(org, open_case)
    first = api(lead).get("/api/v1/approvals/").json()["results"]
    assert [(row["id"], row["step"], row["of"]) for row in first] == [(task.pk, 1, 2)]
    response = api(lead).post("/api/v1/approvals/bulk/", {"task_ids": [task.pk], "opinion": "初审同意"}, format="json")
    assert response.status_code == 200 and response.json()[0]["state"] == TaskState.AWAITING_APPROVAL
    assert api(lead).get("/api/v1/approvals/").json()["count"] == 0  # the last step is not the lead's
    second = api(org.chief).get("/api/v1/approvals/").json()["results"]
    assert [(row["id"], row["step"], row["of"]) for row in second] == [(task.pk, 2, 2)]


def test_bulk_approval_is_all_or_nothing_and_names_the_blockers(api, org, open_case, items):
    first, second = awaiting(org, open_case), awaiting(org, open_case)
    not_ready = joint_task(org, open_case, to="in_progress")
    other_branch = branch_b_task(org, items)
    ids = [first.pk, second.pk, not_ready.pk, other_branch.pk]
    response = api(org.chief).post("/api/v1/approvals/bulk/", {"task_ids": ids, "opinion": "同意"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "bulk_refused"
    # The other branch's task is refused as unknown (never as someone else's): nothing more is said of it.
    assert [(r["task"], r["code"]) for r in body["refusals"]] == [(other_branch.pk, "not_found")]
    assert Task.objects.filter(pk__in=[first.pk, second.pk], state=TaskState.AWAITING_APPROVAL).count() == 2
    response = api(org.chief).post(
        "/api/v1/approvals/bulk/", {"task_ids": [first.pk, second.pk, not_ready.pk], "opinion": "同意"}, format="json"
    )
    assert response.status_code == 409
    assert [r["task"] for r in response.json()["refusals"]] == [not_ready.pk]
    assert Task.objects.filter(pk__in=[first.pk, second.pk], state=TaskState.AWAITING_APPROVAL).count() == 2
    assert not TaskTransition.objects.filter(task__in=[first, second], transition="approve").exists()
    response = api(org.chief).post(
        "/api/v1/approvals/bulk/", {"task_ids": [first.pk, second.pk], "opinion": "同意"}, format="json"
    )
    assert response.status_code == 200
    assert {row["id"] for row in response.json()} == {first.pk, second.pk}
    assert Task.objects.filter(pk__in=[first.pk, second.pk], state=TaskState.DONE).count() == 2
    assert set(
        TaskTransition.objects.filter(task__in=[first, second], transition="approve").values_list("reason", flat=True)
    ) == {"同意"}


def test_bulk_approval_of_two_items_is_refused_with_mixed_items(api, org, open_case, items, taxpayer):
    joint2 = ItemFactory(
        code="J002",
        name="另一联办事项",
        handling_list=items["joint"].handling_list,
        tier=items["joint"].tier,
        team_kind=items["joint"].team_kind,
        time_limit_days=10,
        needs_approval=True,
    )
    items["joint2"] = joint2
    one = awaiting(org, open_case)
    case = open_case("joint2")
    other = services.task_transition(task_id=case.tasks.get().pk, actor=org.clerk, name="transfer")
    for name, extra in (("assign", {}), ("accept", {}), ("submit_for_approval", {"result": "已核"})):
        other = services.task_transition(task_id=other.pk, actor=org.back_member, name=name, **extra)
    response = api(org.chief).post("/api/v1/approvals/bulk/", {"task_ids": [one.pk, other.pk]}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "mixed_items"
    assert Task.objects.filter(pk__in=[one.pk, other.pk], state=TaskState.AWAITING_APPROVAL).count() == 2


@pytest.fixture
def deputy(org):
    return StaffFactory(user__username="deputy", name="副局长林", home_branch=org.source, roles=[Role.TEAM_MEMBER])


def _delegate(api, org, deputy, *, starts: dt.datetime, ends: dt.datetime):
    return api(org.chief).post(
        "/api/v1/delegations/",
        {"deputy": deputy.pk, "starts_at": starts.isoformat(), "ends_at": ends.isoformat(), "reason": "外出学习"},
        format="json",
    )


def _approve(api, staff, task):
    return api(staff).post(
        f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "approve", "reason": "代为审批同意"}, format="json"
    )


def test_the_deputy_approves_inside_the_window_and_the_log_records_both_names(api, client, org, open_case, deputy):
    task = awaiting(org, open_case)
    assert _approve(api, deputy, task).status_code == 403  # no delegation yet
    now = timezone.now()
    response = _delegate(api, org, deputy, starts=now - dt.timedelta(minutes=1), ends=now + dt.timedelta(days=3))
    assert response.status_code == 201, response.json()
    assert response.json()["active"] is True
    assert [row["id"] for row in api(deputy).get("/api/v1/approvals/").json()["results"]] == [task.pk]
    assert _approve(api, deputy, task).status_code == 200
    log = TaskTransition.objects.get(task=task, transition="approve")
    assert (log.actor, log.on_behalf_of, log.on_behalf_of_name) == (deputy, org.chief, org.chief.name)
    client.force_login(org.chief.user)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert f"{deputy.name}（代 {org.chief.name}）" in page  # "deputy (for chief)"


def test_the_deputy_is_refused_outside_the_window_and_after_revoke(api, org, open_case, deputy):
    task = awaiting(org, open_case)
    now = timezone.now()
    later = _delegate(api, org, deputy, starts=now + dt.timedelta(days=1), ends=now + dt.timedelta(days=2))
    assert later.status_code == 201
    assert _approve(api, deputy, task).status_code == 403
    running = _delegate(api, org, deputy, starts=now - dt.timedelta(hours=1), ends=now + dt.timedelta(days=1)).json()
    # Someone else's chief cannot revoke it (it does not exist for them); a reason is required.
    assert api(org.chief2).post(f"/api/v1/delegations/{running['id']}/revoke/", {"reason": "x"}).status_code == 404
    assert api(org.chief).post(f"/api/v1/delegations/{running['id']}/revoke/", {"reason": ""}).status_code == 400
    revoked = api(org.chief).post(f"/api/v1/delegations/{running['id']}/revoke/", {"reason": "提前返岗"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    again = api(org.chief).post(f"/api/v1/delegations/{running['id']}/revoke/", {"reason": "再次"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_revoked"
    assert _approve(api, deputy, task).status_code == 403
    assert Task.objects.get(pk=task.pk).state == TaskState.AWAITING_APPROVAL
    listed = api(deputy).get("/api/v1/delegations/").json()
    assert {row["id"] for row in listed["results"]} == {later.json()["id"], running["id"]}


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("ends_before_start", "ends_before_start"),
        ("too_long", "too_long"),
        ("oneself", "deputy_is_chief"),
        ("other_branch", "deputy_outside_branch"),
    ],
)
def test_a_delegation_is_validated(api, org, deputy, case, code):
    now = timezone.now()
    starts, ends, who = now, now + dt.timedelta(days=2), deputy
    if case == "ends_before_start":
        ends = now - dt.timedelta(hours=1)
    elif case == "too_long":
        ends = now + dt.timedelta(days=31)
    elif case == "oneself":
        who = org.chief
    elif case == "other_branch":
        who = org.back_member2
    response = _delegate(api, org, who, starts=starts, ends=ends)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Delegation.objects.exists()


def test_only_chiefs_and_administrators_name_deputies(api, org, deputy):
    now = timezone.now()
    body = {
        "deputy": deputy.pk,
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=1)).isoformat(),
        "reason": "休假",
    }
    assert api(org.back_member).post("/api/v1/delegations/", body, format="json").status_code == 403
    assert api(org.admin).post("/api/v1/delegations/", body, format="json").status_code == 400  # names no chief
    response = api(org.admin).post("/api/v1/delegations/", {**body, "chief": org.chief.pk}, format="json")
    assert response.status_code == 201 and response.json()["chief"] == org.chief.pk
    assert Delegation.objects.get().created_by == org.admin


@pytest.mark.parametrize("kind", ["urge", "supervise"])
def test_a_reminder_lands_in_the_holders_inbox_with_the_task(api, org, open_case, kind):
    task = joint_task(org, open_case, to="in_progress")
    response = api(org.chief).post(
        f"/api/v1/tasks/{task.pk}/reminders/", {"kind": kind, "message": "请今天内办结"}, format="json"
    )
    assert response.status_code == 201, response.json()
    log = TaskTransition.objects.get(task=task, transition=kind)
    assert (log.from_state, log.to_state, log.actor, log.reason) == (task.state, task.state, org.chief, "请今天内办结")
    note = Notification.objects.get(recipient=org.back_member, transition=log)
    assert note.task == task and "请今天内办结" in note.message
    inbox = api(org.back_member).get("/api/v1/notifications/").json()["results"]
    assert any(row["task"] == task.pk and "请今天内办结" in row["message"] for row in inbox)
    assert Task.objects.get(pk=task.pk).state == task.state


def test_reminder_refusals(api, org, open_case, items):
    queued = joint_task(org, open_case)
    held = joint_task(org, open_case, to="assigned")
    other = branch_b_task(org, items)
    url = "/api/v1/tasks/{}/reminders/"
    body = {"kind": "urge", "message": "请尽快办理"}
    response = api(org.chief).post(url.format(queued.pk), body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "no_assignee"
    assert api(org.chief).post(url.format(other.pk), body, format="json").status_code == 404
    assert api(org.back_member).post(url.format(held.pk), body, format="json").status_code == 403
    blank = api(org.chief).post(url.format(held.pk), {"kind": "urge", "message": ""}, format="json")
    assert blank.status_code == 400
    wrong = api(org.chief).post(url.format(held.pk), {"kind": "scold", "message": "x"}, format="json")
    assert wrong.status_code == 400
    assert not TaskTransition.objects.filter(transition__in=["urge", "supervise"]).exists()
    assert not Notification.objects.filter(transition__transition__in=["urge", "supervise"]).exists()


def test_the_task_page_offers_the_reminder_form_to_the_chief_and_sends_it(client, org, open_case):
    task = joint_task(org, open_case, to="assigned")
    client.force_login(org.back_member.user)
    assert 'id="reminder"' not in client.get(f"/tasks/{task.pk}/").content.decode()
    client.force_login(org.chief.user)
    assert 'id="reminder"' in client.get(f"/tasks/{task.pk}/").content.decode()
    client.post(f"/back-office/tasks/{task.pk}/reminders/", {"kind": "supervise", "message": "督办：周五前办结"})
    assert Notification.objects.filter(recipient=org.back_member, transition__transition="supervise").count() == 1


def test_the_schema_documents_the_desk_endpoints_and_their_refusals(api, org):
    schema = api(org.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path, method, codes in (
        ("/api/v1/approvals/", "get", {"200", "403"}),
        ("/api/v1/approvals/bulk/", "post", {"200", "400", "403", "409"}),
        ("/api/v1/delegations/", "post", {"201", "400", "403"}),
        ("/api/v1/delegations/{delegation_id}/revoke/", "post", {"200", "404", "409"}),
        ("/api/v1/tasks/{task_id}/reminders/", "post", {"201", "400", "403", "404", "409"}),
    ):
        assert codes <= set(paths[path][method]["responses"]), path


def test_the_queue_pages_bulk_approval_refuses_as_a_whole_and_names_the_blocker(client, org, open_case):
    first, second = awaiting(org, open_case), awaiting(org, open_case)
    not_ready = joint_task(org, open_case, to="in_progress")
    client.force_login(org.chief.user)
    page = client.get("/back-office/").content.decode()
    assert 'id="bulk-approve"' in page and f'name="task_ids" value="{first.pk}"' in page
    response = client.post(
        "/back-office/approvals/bulk/",
        {"task_ids": [first.pk, second.pk, not_ready.pk], "reason": "同意"},
        follow=True,
    )
    shown = " ".join(str(message) for message in response.context["messages"])
    assert f"T{not_ready.pk}" in shown and f"T{first.pk}:" not in shown
    assert Task.objects.filter(pk__in=[first.pk, second.pk], state=TaskState.AWAITING_APPROVAL).count() == 2
    client.post("/back-office/approvals/bulk/", {"task_ids": [first.pk, second.pk], "reason": "同意"})
    assert Task.objects.filter(pk__in=[first.pk, second.pk], state=TaskState.DONE).count() == 2


def test_the_desk_panel_names_and_revokes_a_deputy(client, org, deputy):
    client.force_login(org.chief.user)
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    response = client.post(
        "/back-office/desk/deputies/",
        {
            "deputy": deputy.pk,
            "starts_at": (now - dt.timedelta(minutes=5)).strftime(fmt),
            "ends_at": (now + dt.timedelta(days=2)).strftime(fmt),
            "reason": "外出培训",
        },
    )
    assert response.status_code == 302
    row = Delegation.objects.get()
    assert (row.chief, row.deputy, row.created_by) == (org.chief, deputy, org.chief)
    # Too long: refused on the panel, nothing written.
    response = client.post(
        "/back-office/desk/deputies/",
        {
            "deputy": deputy.pk,
            "starts_at": now.strftime(fmt),
            "ends_at": (now + dt.timedelta(days=40)).strftime(fmt),
            "reason": "长期",
        },
    )
    assert response.status_code == 400 and Delegation.objects.count() == 1
    client.post(f"/back-office/desk/deputies/{row.pk}/revoke/", {"reason": "提前返岗"})
    row.refresh_from_db()
    assert row.revoked_by == org.chief and row.revoke_reason == "提前返岗"
    client.force_login(org.chief2.user)
    assert client.post(f"/back-office/desk/deputies/{row.pk}/revoke/", {"reason": "x"}).status_code == 404
