"""Issue #9's "done when", through the REST API: a 一问联办 item travels from the front desk
to the competent branch's team (dispatched at random by the robot), opens a sub-task in
another branch's team, gets a field check with an attachment, a two-step approval,
feedback that keeps the result, a rating of 2 and the rectification it opens, with every
step in the task's history."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from taxservice.org.models import Role
from taxservice.workflow.cases.models import Task, TaskState, TaskTransition
from taxservice.workflow.quality.models import Rectification
from taxservice.workflow.routing.models import DispatchDecision
from tests.factories import StaffFactory

S = TaskState
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def move(client, task_id, transition, **data):
    task = client.get(f"/api/v1/tasks/{task_id}/").json()
    response = client.post(
        f"/api/v1/tasks/{task_id}/transitions/",
        {"transition": transition, "expected_state": task["state"], **data},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_joint_item_travels_the_whole_back_office_loop(
    org, items, taxpayer, api, media, django_capture_on_commit_callbacks
):
    item = items["joint"]
    item.approval_levels = 2
    item.save()
    lead = StaffFactory(home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic])
    clerk, chief = api(org.clerk), api(org.chief)

    # Front desk: the clerk opens the case and transfers the item.
    case = clerk.post(
        "/api/v1/cases/",
        {
            "taxpayer": taxpayer.credit_code,
            "channel": "hall_window",
            "hall": org.hall.code,
            "items": [{"item": "J001"}],
        },
        format="json",
    )
    assert case.status_code == 201, case.content
    case_id = case.json()["id"]
    task_id = Task.objects.get(case_id=case_id).pk
    with django_capture_on_commit_callbacks(execute=True):
        move(clerk, task_id, "transfer")

    # The competent branch's team: dispatched at random by the robot, automatically.
    task = Task.objects.get(pk=task_id)
    assert (task.team, task.state, task.assignee) == (org.basic, S.ASSIGNED, org.back_member)
    decision = DispatchDecision.objects.get(task=task)
    assert decision.chooser == "random"
    handler = api(org.back_member)
    move(handler, task_id, "accept")

    # A sub-task in the other branch's team, worked there and finished with its result.
    with django_capture_on_commit_callbacks(execute=True):
        sub = handler.post(
            f"/api/v1/tasks/{task_id}/subtasks/", {"team": "SRC2-BASIC", "note": "核实在二分局的登记"}, format="json"
        )
    assert sub.status_code == 201, sub.content
    sub_id = sub.json()["id"]
    assert Task.objects.get(pk=sub_id).assignee == org.back_member2
    other = api(org.back_member2)
    move(other, sub_id, "accept")
    blocked = handler.post(
        f"/api/v1/tasks/{task_id}/transitions/",
        {"transition": "submit_for_approval", "result": "x", "expected_state": "in_progress"},
        format="json",
    )
    assert (blocked.status_code, blocked.json()["code"]) == (409, "subtasks_open")
    move(other, sub_id, "complete", result="二分局无未结事项")

    # A field check with an attachment.
    check = handler.post(
        f"/api/v1/tasks/{task_id}/field-checks/",
        {
            "place": "经营场所",
            "visited_on": "2026-11-30",
            "findings": "场所已停业，账簿齐全",
            "result": "confirmed",
            "files": [SimpleUploadedFile("现场照片说明.pdf", PDF, content_type="application/pdf")],
        },
        format="multipart",
    )
    assert check.status_code == 201, check.content

    # Two-step approval: the team lead, then the chief.
    move(handler, task_id, "submit_for_approval", result="核查无误，符合注销条件")
    assert Task.objects.get(pk=task_id).approval_step == 1
    move(api(lead), task_id, "approve", reason="同意上报")
    move(chief, task_id, "approve", reason="同意注销")
    assert Task.objects.get(pk=task_id).state == S.DONE

    # Feedback at the counter keeps the back office's result beside it.
    feedback = clerk.post(
        f"/api/v1/cases/{case_id}/feedback/",
        {"task": task_id, "result": "已电话告知纳税人可办理注销", "channel": "phone_12366"},
        format="json",
    )
    assert feedback.status_code == 200, feedback.content
    task = Task.objects.get(pk=task_id)
    assert (task.state, task.result, task.feedback) == (
        S.CLOSED,
        "核查无误，符合注销条件",
        "已电话告知纳税人可办理注销",
    )

    # A rating of 2 opens the rectification, for the handler.
    rating = clerk.post(f"/api/v1/cases/{case_id}/rating/", {"score": 2, "comment": "等待时间太长"}, format="json")
    assert rating.status_code == 201, rating.content
    rectification = Rectification.objects.get(pk=rating.json()["rectification"])
    assert (rectification.responsible, rectification.task.assignee) == (org.back_member, org.back_member)

    steps = list(
        TaskTransition.objects.filter(task_id=task_id).order_by("at", "id").values_list("transition", flat=True)
    )
    for expected in (
        "receive",
        "transfer",
        "assign",
        "accept",
        "open_subtask",
        "field_check",
        "submit_for_approval",
        "approve",
        "give_feedback",
    ):
        assert expected in steps, (expected, steps)
    assert steps.count("approve") == 2
