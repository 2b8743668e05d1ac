"""The back office's core rules (issue #9): multi-step approval, the approver's sent-back
flag, four eyes over the whole history, a chief's deputy, and sub-tasks that hold their
parent open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Delegation, Role
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import SentBack, Task, TaskState, TaskTransition
from tests.factories import StaffFactory

S = TaskState


def step(task, actor, name, **kwargs):
    return services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)


@pytest.fixture
def lead(org):
    """The basic team's lead: decides the first of two approval steps on its tasks."""
    return StaffFactory(
        user__username="lead", name="组长许", home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic]
    )


@pytest.fixture
def joint_task(org, open_case, items):
    """A 一问联办 task in the first branch's basic team, worked by its member, in progress."""

    def _make(levels: int = 1) -> Task:
        items["joint"].approval_levels = levels
        items["joint"].save()
        task = open_case("joint").tasks.get()
        step(task, org.clerk, "transfer")
        task.refresh_from_db()
        assert task.team == org.basic
        step(task, org.chief, "assign", assignee_id=org.back_member.pk)
        return step(task, org.back_member, "accept")

    return _make


def test_a_two_step_item_waits_for_the_team_lead_then_the_chief(org, joint_task, lead):
    task = step(joint_task(levels=2), org.back_member, "submit_for_approval", result="实地核查无异常")
    assert (task.state, task.approval_step) == (S.AWAITING_APPROVAL, 1)
    # The chief's step is the last one: the team lead's comes first, and the lead cannot take the last.
    task = step(task, lead, "approve", reason="核查材料齐全")
    assert (task.state, task.approval_step) == (S.AWAITING_APPROVAL, 2)
    with pytest.raises(ActionForbidden):
        step(task, lead, "approve", reason="再次同意")
    task = step(task, org.chief, "approve", reason="同意注销")
    assert (task.state, task.approval_step) == (S.DONE, 0)
    rows = list(TaskTransition.objects.filter(task=task, transition="approve").order_by("id"))
    assert [(row.actor, row.reason, row.details["step"], row.details["of"]) for row in rows] == [
        (lead, "核查材料齐全", 1, 2),
        (org.chief, "同意注销", 2, 2),
    ]


def test_a_team_lead_decides_only_their_own_teams_tasks(org, joint_task):
    outsider = StaffFactory(home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic2])
    task = step(joint_task(levels=2), org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        step(task, outsider, "approve")
    assert "approve" not in selectors.allowed_transitions(staff=outsider, task=task)


def test_a_single_step_item_is_the_chiefs_alone(org, joint_task, lead):
    task = step(joint_task(levels=1), org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        step(task, lead, "approve")
    assert step(task, org.chief, "approve").state == S.DONE


def test_reject_and_return_mark_the_task_sent_back_until_it_is_submitted_again(org, joint_task):
    task = step(joint_task(), org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(InvalidInput) as refused:
        step(task, org.chief, "send_back", reason="  ")
    assert refused.value.code == "reason_required"
    task = step(task, org.chief, "send_back", reason="缺少现场照片")
    assert (task.state, task.sent_back) == (S.IN_PROGRESS, SentBack.RETURNED)
    task = step(task, org.back_member, "submit_for_approval", result="已补现场照片")
    assert task.sent_back == SentBack.NO
    task = step(task, org.chief, "reject", reason="不符合注销条件")
    assert (task.state, task.sent_back) == (S.IN_PROGRESS, SentBack.REJECTED)
    assert task.result == "已补现场照片"  # the holder's words are kept for the next try


def test_a_chief_who_did_the_work_as_supervisor_cannot_approve_it(org, joint_task):
    task = joint_task()
    task = step(task, org.chief, "submit_for_approval", result="分局长代为提交")
    with pytest.raises(ActionForbidden) as refused:
        step(task, org.chief, "approve")
    assert "four eyes" in str(refused.value) or "四眼" in str(refused.value) or refused.value.detail
    assert "approve" not in selectors.allowed_transitions(staff=org.chief, task=task)


def test_whoever_held_the_task_once_cannot_approve_it_later(org, joint_task):
    other_chief_member = StaffFactory(home_branch=org.source, roles=[Role.BRANCH_CHIEF], teams=[org.basic])
    task = joint_task()
    task = step(task, org.chief, "reassign", assignee_id=other_chief_member.pk, reason="换人办理")
    task = step(task, org.chief, "reassign", assignee_id=org.back_member.pk, reason="换回")
    task = step(task, org.back_member, "accept")
    task = step(task, org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        step(task, other_chief_member, "approve")


def test_the_administrator_is_no_exception_to_four_eyes(org, joint_task):
    task = step(joint_task(), org.admin, "submit_for_approval", result="管理员代为提交")
    with pytest.raises(ActionForbidden):
        step(task, org.admin, "approve")


@pytest.mark.parametrize("who", ["admin", "clerk", "integrator", "inspector"])
def test_tasks_are_assigned_only_to_people_who_work_them(org, open_case, who):
    """Issue #15, finding 2: a coordination-post task parked on someone who cannot accept it."""
    task = open_case("assisted").tasks.get()
    step(task, org.clerk, "transfer")
    person = getattr(org, who)
    person.teams.add(org.hub, org.online)
    before = TaskTransition.objects.count()
    with pytest.raises(InvalidInput) as refused:
        step(task, org.coordinator, "assign", assignee_id=person.pk)
    assert refused.value.code == "not_a_handler"
    assert TaskTransition.objects.count() == before


def _delegation(org, deputy, *, starts, ends, revoked=False):
    return Delegation.objects.create(
        chief=org.chief,
        deputy=deputy,
        starts_at=starts,
        ends_at=ends,
        reason="出差",
        created_by=org.chief,
        revoked_at=timezone.now() if revoked else None,
    )


def test_a_deputy_decides_for_the_chief_inside_the_window_and_the_log_names_both(org, joint_task):
    deputy = StaffFactory(user__username="deputy", name="副局长何", home_branch=org.source, roles=[Role.TEAM_MEMBER])
    now = timezone.now()
    _delegation(org, deputy, starts=now - dt.timedelta(hours=1), ends=now + dt.timedelta(days=1))
    task = step(joint_task(), org.back_member, "submit_for_approval", result="已核实")
    task = step(task, deputy, "approve", reason="代分局长同意")
    assert task.state == S.DONE
    row = TaskTransition.objects.get(task=task, transition="approve")
    assert (row.actor, row.on_behalf_of, row.on_behalf_of_name) == (deputy, org.chief, org.chief.name)


@pytest.mark.parametrize("window", ["future", "past", "revoked"])
def test_a_deputy_outside_the_window_is_refused(org, joint_task, window):
    deputy = StaffFactory(home_branch=org.source, roles=[Role.TEAM_MEMBER])
    now = timezone.now()
    starts, ends = {
        "future": (now + dt.timedelta(days=1), now + dt.timedelta(days=2)),
        "past": (now - dt.timedelta(days=2), now - dt.timedelta(days=1)),
        "revoked": (now - dt.timedelta(hours=1), now + dt.timedelta(days=1)),
    }[window]
    _delegation(org, deputy, starts=starts, ends=ends, revoked=window == "revoked")
    task = step(joint_task(), org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        step(task, deputy, "approve")
    assert Task.objects.get(pk=task.pk).state == S.AWAITING_APPROVAL


def test_a_deputy_cannot_approve_work_they_did(org, joint_task):
    now = timezone.now()
    _delegation(org, org.back_member, starts=now - dt.timedelta(hours=1), ends=now + dt.timedelta(days=1))
    task = step(joint_task(), org.back_member, "submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        step(task, org.back_member, "approve")


# --- sub-tasks ---------------------------------------------------------------------------------


def test_a_parent_cannot_finish_while_a_sub_task_is_open(org, joint_task):
    parent = joint_task()
    sub = services.subtask_open(
        actor=org.back_member, parent_id=parent.pk, team_code="SRC2-BASIC", note="核实二分局登记信息", days=3
    )
    assert (sub.parent, sub.team, sub.state, sub.auto_dispatch) == (parent, org.basic2, S.QUEUED, True)
    assert TaskTransition.objects.filter(task=parent, transition="open_subtask", details__subtask=sub.pk).exists()
    with pytest.raises(TransitionNotAllowed) as refused:
        step(parent, org.back_member, "submit_for_approval", result="已核实")
    assert refused.value.code == "subtasks_open"
    assert f"T{sub.pk}" in refused.value.detail
    assert Task.objects.get(pk=parent.pk).state == S.IN_PROGRESS
    # The sub-task is worked by its own team, with its own history and result.
    step(sub, org.chief2, "assign", assignee_id=org.back_member2.pk)
    step(sub, org.back_member2, "accept")
    sub = step(sub, org.back_member2, "complete", result="二分局无欠税")
    assert sub.result == "二分局无欠税"
    assert step(parent, org.back_member, "submit_for_approval", result="已核实").state == S.AWAITING_APPROVAL


def test_a_sub_task_has_its_own_time_limit(org, joint_task):
    parent = joint_task()
    short = services.subtask_open(actor=org.back_member, parent_id=parent.pk, team_code="SRC2-BASIC", note="a", days=1)
    long = services.subtask_open(actor=org.back_member, parent_id=parent.pk, team_code="SRC2-BASIC", note="b", days=10)
    assert short.due_at < long.due_at


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"team_code": "SRC2-BASIC", "note": " "}, "note_required"),
        ({"team_code": "NOPE", "note": "x"}, "unknown_team"),
        ({"team_code": "SRC1-BASIC", "note": "x"}, "same_team"),
        ({"team_code": "H01-NOPE", "note": "x", "days": 0}, "unknown_team"),
    ],
)
def test_a_bad_sub_task_is_refused_and_nothing_is_written(org, joint_task, kwargs, code):
    parent = joint_task()
    before = (Task.objects.count(), TaskTransition.objects.count())
    with pytest.raises(InvalidInput) as refused:
        services.subtask_open(actor=org.back_member, parent_id=parent.pk, **kwargs)
    assert refused.value.code == code
    assert (Task.objects.count(), TaskTransition.objects.count()) == before


def test_only_the_holder_or_a_supervisor_opens_sub_tasks_and_other_branches_get_404(org, joint_task):
    parent = joint_task()
    other = StaffFactory(home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[org.basic])
    with pytest.raises(ActionForbidden):
        services.subtask_open(actor=other, parent_id=parent.pk, team_code="SRC2-BASIC", note="x")
    with pytest.raises(NotFound):
        services.subtask_open(actor=org.chief2, parent_id=parent.pk, team_code="SRC2-BASIC", note="x")
    assert (
        services.subtask_open(actor=org.chief, parent_id=parent.pk, team_code="SRC2-BASIC", note="x").parent == parent
    )


def test_the_api_opens_and_lists_sub_tasks(org, joint_task, api):
    parent = joint_task()
    client = api(org.back_member)
    created = client.post(
        f"/api/v1/tasks/{parent.pk}/subtasks/", {"team": "SRC2-BASIC", "note": "核实登记"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["parent"] == parent.pk
    listed = client.get(f"/api/v1/tasks/{parent.pk}/subtasks/").json()
    assert [row["id"] for row in listed] == [created.json()["id"]]
    refused = client.post(
        f"/api/v1/tasks/{parent.pk}/transitions/",
        {"transition": "submit_for_approval", "result": "已核实", "expected_state": "in_progress"},
        format="json",
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "subtasks_open")
    assert api(org.chief2).get(f"/api/v1/tasks/{parent.pk}/subtasks/").status_code == 404
    bad = client.post(f"/api/v1/tasks/{parent.pk}/subtasks/", {"team": "SRC2-BASIC", "note": ""}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()


def test_a_reassign_to_the_current_holder_is_refused_and_writes_nothing(org, joint_task):
    """Issue #14, finding 7: in the service, so the page and the API answer alike."""
    task = joint_task()
    rows = TaskTransition.objects.count()
    with pytest.raises(InvalidInput) as refused:
        step(task, org.chief, "reassign", assignee_id=org.back_member.pk, reason="再派一次")
    assert refused.value.code == "same_assignee"
    assert TaskTransition.objects.count() == rows


def test_a_rule_change_that_changes_nothing_writes_no_version(org):
    from taxservice.workflow.routing import services as routing_services
    from taxservice.workflow.routing.models import RoutingRule, RoutingRuleChange

    rule = RoutingRule.objects.order_by("id").first()
    version, changes = rule.version, RoutingRuleChange.objects.count()
    for same in ({}, {"name": rule.name}):
        with pytest.raises(InvalidInput) as refused:
            routing_services.rule_save(actor=org.coordinator, rule_id=rule.pk, changes=same, reason="无变化")
        assert refused.value.code == "nothing_to_change"
    rule.refresh_from_db()
    assert (rule.version, RoutingRuleChange.objects.count()) == (version, changes)


def test_the_history_keeps_names_as_they_were(org, joint_task):
    """Issue #15, finding 6: renaming someone never rewrites who did what."""
    task = joint_task()
    accepted = TaskTransition.objects.get(task=task, transition="accept")
    org.back_member.name = "改名后"
    org.back_member.save()
    accepted = TaskTransition.objects.get(pk=accepted.pk)
    assert (accepted.actor_name, accepted.actor_label) == ("后台孙", "后台孙")
    later = step(task, org.back_member, "request_materials", reason="补正")
    assert TaskTransition.objects.filter(task=later, transition="request_materials").get().actor_name == "改名后"


def test_an_escalated_task_is_dispatched_at_random_in_the_branch_team(
    org, open_case, django_capture_on_commit_callbacks
):
    task = open_case("assisted").tasks.get()
    step(task, org.clerk, "transfer")
    step(task, org.member, "assign")
    step(task, org.member, "accept")
    with django_capture_on_commit_callbacks(execute=True):
        escalated = step(task, org.member, "escalate", reason="需实地核查")
    assert (escalated.team, escalated.auto_dispatch) == (org.basic, True)
    task = Task.objects.get(pk=task.pk)
    assert (task.state, task.assignee) == (S.ASSIGNED, org.back_member)
