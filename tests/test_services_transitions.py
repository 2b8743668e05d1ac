"""Every task transition through the one service, and every forbidden one from each state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from taxservice.errors import ActionForbidden, ConcurrentChange, InvalidInput, TransitionNotAllowed
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, Task, TaskState, TaskTransition
from taxservice.workflow.cases.transitions import TRANSITIONS

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

S = TaskState

# The path that brings an item's task into each state, as (transition, actor attribute, extra kwargs).
PATHS: dict[str, list[tuple[str, str, dict]]] = {
    S.RECEIVED: [],
    S.QUEUED: [("transfer", "clerk", {})],
    S.ASSIGNED: [("transfer", "clerk", {}), ("assign", "member", {})],
    S.IN_PROGRESS: [("transfer", "clerk", {}), ("assign", "member", {}), ("accept", "member", {})],
    S.AWAITING_MATERIALS: [
        ("transfer", "clerk", {}),
        ("assign", "member", {}),
        ("accept", "member", {}),
        ("request_materials", "member", {"reason": "补正营业执照复印件"}),
    ],
    S.AWAITING_APPROVAL: [
        ("transfer", "clerk", {}),
        ("assign", "member", {}),
        ("accept", "member", {}),
        ("submit_for_approval", "member", {"result": "已核实"}),
    ],
    S.DONE: [
        ("transfer", "clerk", {}),
        ("assign", "member", {}),
        ("accept", "member", {}),
        ("complete", "member", {"result": "已办理"}),
    ],
    S.CLOSED: [
        ("transfer", "clerk", {}),
        ("assign", "member", {}),
        ("accept", "member", {}),
        ("complete", "member", {"result": "已办理"}),
        ("give_feedback", "member", {"result": "已电话告知"}),
    ],
    S.CANCELLED: [("cancel", "clerk", {"reason": "纳税人撤回"})],
}

# What each state allows (for an item of the right kind).
ALLOWED: dict[str, set[str]] = {
    S.RECEIVED: {"handle_on_spot", "transfer", "cancel"},
    S.QUEUED: {"assign", "reroute", "cancel"},
    S.ASSIGNED: {"accept", "return", "reassign", "cancel"},
    S.IN_PROGRESS: {
        "return",
        "reassign",
        "request_materials",
        "escalate",
        "submit_for_approval",
        "complete",
        "cancel",
        "request_extension",
    },  # fmt: skip
    S.AWAITING_MATERIALS: {"receive_materials", "cancel", "request_extension"},
    S.AWAITING_APPROVAL: {"approve", "reject", "send_back", "cancel"},
    S.DONE: {"give_feedback"},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}

FULL_ARGS = {"reason": "理由", "result": "结果", "channel": "hall_window", "team_code": "HUB", "days": 1}


def drive(org, task: Task, state: str) -> Task:
    for name, actor, kwargs in PATHS[state]:
        task = services.task_transition(task_id=task.pk, actor=getattr(org, actor), name=name, **kwargs)
    assert task.state == state
    return task


def task_in(org, open_case, state: str, kind: str = "assisted") -> Task:
    if state == S.AWAITING_APPROVAL:
        kind = "approval"
    return drive(org, open_case(kind).tasks.get(), state)


@pytest.mark.parametrize("state", list(ALLOWED))
def test_it_refuses_every_transition_the_state_does_not_allow(org, open_case, state):
    task = task_in(org, open_case, state)
    rows_before = TaskTransition.objects.count()
    for name in set(TRANSITIONS) - ALLOWED[state]:
        with pytest.raises(TransitionNotAllowed):
            services.task_transition(
                task_id=task.pk, actor=org.admin, name=name, assignee_id=org.member.pk, **FULL_ARGS
            )
    task.refresh_from_db()
    assert task.state == state
    assert TaskTransition.objects.count() == rows_before


def test_the_allowed_table_covers_every_state_and_transition():
    assert set(ALLOWED) == set(TaskState.values)
    # Deciding on an extension needs a pending request in any open state (tests/test_clocks.py).
    decisions = {"approve_extension", "reject_extension"}
    assert set().union(*ALLOWED.values()) | decisions == set(TRANSITIONS)


def test_it_handles_an_immediate_item_on_the_spot_and_closes_the_case(org, open_case):
    case = open_case("immediate")
    task = services.task_transition(
        task_id=case.tasks.get().pk, actor=org.clerk, name="handle_on_spot", result="已领用发票"
    )
    assert task.state == S.CLOSED
    assert task.result == "已领用发票"
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert case.closed_at is not None


def test_it_requires_a_result_to_handle_on_the_spot(org, open_case):
    task = open_case("immediate").tasks.get()
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.clerk, name="handle_on_spot", result="  ")
    task.refresh_from_db()
    assert task.state == S.RECEIVED


def test_it_refuses_to_handle_an_assisted_item_on_the_spot(org, open_case):
    task = open_case("assisted").tasks.get()
    with pytest.raises(TransitionNotAllowed) as error:
        services.task_transition(task_id=task.pk, actor=org.clerk, name="handle_on_spot", result="x")
    assert error.value.code == "not_immediate"


def test_transfer_routes_an_assisted_item_to_the_city_team(org, open_case):
    task = services.task_transition(task_id=open_case("assisted").tasks.get().pk, actor=org.clerk, name="transfer")
    assert (task.state, task.tier, task.team) == (S.QUEUED, "middle", org.online)


def test_transfer_routes_a_moved_forward_item_to_the_competent_branchs_dispatched_staff(org, open_case):
    task = services.task_transition(task_id=open_case("moved_forward").tasks.get().pk, actor=org.clerk, name="transfer")
    assert task.team == org.dispatched
    assert task.team.home_branch == task.taxpayer.competent_branch


def test_transfer_falls_back_to_the_coordination_post_without_dispatched_staff(org, open_case, taxpayer):
    taxpayer.competent_branch = org.source2  # no dispatched group from SRC2
    taxpayer.save()
    task = services.task_transition(task_id=open_case("moved_forward").tasks.get().pk, actor=org.clerk, name="transfer")
    assert task.team == org.hub


def test_transfer_routes_a_joint_item_to_the_competent_branchs_team(org, open_case):
    task = services.task_transition(task_id=open_case("joint").tasks.get().pk, actor=org.clerk, name="transfer")
    assert (task.tier, task.team) == ("back", org.basic)


def test_assign_defaults_to_the_caller(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    task = services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    assert task.assignee == org.member


def test_only_coordinators_assign_to_someone_else(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.member, name="assign", assignee_id=org.member2.pk)
    task = services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=org.member2.pk)
    assert task.assignee == org.member2


def test_it_refuses_an_assignee_outside_the_team_or_off_duty(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    with pytest.raises(InvalidInput, match=org.back_member.name):
        services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=org.back_member.pk)
    org.member2.on_duty = False
    org.member2.save()
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=org.member2.pk)
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=999999)
    task.refresh_from_db()
    assert task.state == S.QUEUED


def test_only_the_assignee_accepts(org, open_case):
    task = task_in(org, open_case, S.ASSIGNED)
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.member2, name="accept")
    assert services.task_transition(task_id=task.pk, actor=org.member, name="accept").state == S.IN_PROGRESS


@pytest.mark.parametrize("state", [S.ASSIGNED, S.IN_PROGRESS])
def test_return_needs_a_reason_and_puts_the_task_back_in_the_queue(org, open_case, state):
    task = task_in(org, open_case, state)
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.member, name="return")
    task = services.task_transition(task_id=task.pk, actor=org.member, name="return", reason="不属于本团队")
    assert (task.state, task.assignee) == (S.QUEUED, None)
    log = task.transitions.last()
    assert (log.reason, log.details["from_assignee"]) == ("不属于本团队", org.member.pk)


def test_the_clock_pauses_while_awaiting_materials(org, open_case):
    task = task_in(org, open_case, S.AWAITING_MATERIALS)
    due = task.due_at
    requested = task.transitions.get(transition="request_materials")
    # Back-dating a log row (test setup only: the audit queryset refuses update()).
    QuerySet.update(TaskTransition.objects.filter(pk=requested.pk), at=timezone.now() - dt.timedelta(days=2))
    task = services.task_transition(task_id=task.pk, actor=org.member, name="receive_materials")
    assert task.state == S.IN_PROGRESS
    assert dt.timedelta(days=2) <= task.due_at - due < dt.timedelta(days=2, minutes=1)


def test_escalate_sends_the_task_to_the_competent_branchs_back_office(org, open_case):
    task = task_in(org, open_case, S.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.member, name="escalate")
    task = services.task_transition(task_id=task.pk, actor=org.member, name="escalate", reason="需实地核查")
    assert (task.state, task.tier, task.team, task.assignee) == (S.QUEUED, "back", org.basic, None)


def test_an_item_needing_approval_cannot_be_completed_directly(org, open_case):
    task = drive(org, open_case("approval").tasks.get(), S.IN_PROGRESS)
    with pytest.raises(TransitionNotAllowed) as error:
        services.task_transition(task_id=task.pk, actor=org.member, name="complete", result="已办理")
    assert error.value.code == "needs_approval"


def test_an_item_needing_no_approval_cannot_be_submitted(org, open_case):
    task = task_in(org, open_case, S.IN_PROGRESS)
    with pytest.raises(TransitionNotAllowed):
        services.task_transition(task_id=task.pk, actor=org.member, name="submit_for_approval", result="已核实")


def test_approve_and_reject(org, open_case):
    task = task_in(org, open_case, S.AWAITING_APPROVAL)
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.coordinator, name="reject")
    task = services.task_transition(task_id=task.pk, actor=org.coordinator, name="reject", reason="材料不全")
    assert task.state == S.IN_PROGRESS
    task = services.task_transition(task_id=task.pk, actor=org.member, name="submit_for_approval", result="已补全")
    task = services.task_transition(task_id=task.pk, actor=org.coordinator, name="approve")
    assert task.state == S.DONE


def test_nobody_approves_their_own_work(org, open_case):
    org.coordinator.teams.add(org.online)
    task = drive(org, open_case("approval").tasks.get(), S.IN_PROGRESS)
    task = services.task_transition(task_id=task.pk, actor=org.coordinator, name="return", reason="改派")
    services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign")
    services.task_transition(task_id=task.pk, actor=org.coordinator, name="accept")
    services.task_transition(task_id=task.pk, actor=org.coordinator, name="submit_for_approval", result="已核实")
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.coordinator, name="approve")


def test_a_branch_chief_approves_only_their_branchs_tasks(org, open_case):
    task = open_case("joint").tasks.get()
    for name, actor in [
        ("transfer", org.clerk),
        ("assign", org.back_member),
        ("accept", org.back_member),
        ("submit_for_approval", org.back_member),
    ]:
        task = services.task_transition(task_id=task.pk, actor=actor, name=name, result="实地核查无异常")
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.chief2, name="approve")
    assert services.task_transition(task_id=task.pk, actor=org.chief, name="approve").state == S.DONE


def test_give_feedback_records_the_feedback_and_the_channel_and_keeps_the_handlers_result(org, open_case):
    task = task_in(org, open_case, S.DONE)
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.member, name="give_feedback")
    task = services.task_transition(
        task_id=task.pk, actor=org.member, name="give_feedback", result="已办结并告知", channel="phone_12366"
    )
    assert (task.state, task.feedback, task.feedback_channel) == (S.CLOSED, "已办结并告知", "phone_12366")
    assert task.result == "已办理"  # what the handler wrote, not overwritten by the feedback
    assert Case.objects.get(pk=task.case_id).state == Case.State.CLOSED


def test_give_feedback_defaults_to_the_case_channel(org, open_case):
    task = task_in(org, open_case, S.DONE)
    task = services.task_transition(task_id=task.pk, actor=org.member, name="give_feedback", result="ok")
    assert task.feedback_channel == "hall_window"


def test_the_case_stays_open_until_every_task_is_closed(org, open_case):
    case = open_case("immediate", "assisted")
    immediate, assisted = case.tasks.order_by("id")
    services.task_transition(task_id=immediate.pk, actor=org.clerk, name="handle_on_spot", result="ok")
    case.refresh_from_db()
    assert case.state == Case.State.OPEN
    services.task_transition(task_id=assisted.pk, actor=org.clerk, name="cancel", reason="纳税人撤回")
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED


def test_cancel_needs_a_reason(org, open_case):
    task = open_case("assisted").tasks.get()
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.clerk, name="cancel", reason="")


def test_roles_limit_transitions(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.clerk, name="assign")
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.inspector, name="assign")


def test_staff_act_only_on_their_own_teams_and_branchs_tasks(org, open_case):
    task = task_in(org, open_case, S.QUEUED, kind="joint")  # SRC1's basic team
    with pytest.raises(ActionForbidden):
        services.task_transition(task_id=task.pk, actor=org.back_member2, name="assign")
    assert services.task_transition(task_id=task.pk, actor=org.back_member, name="assign").assignee == org.back_member


def test_a_stale_expected_state_is_a_conflict_and_writes_nothing(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    services.task_transition(task_id=task.pk, actor=org.member, name="assign", expected_state=S.QUEUED)
    rows = TaskTransition.objects.count()
    with pytest.raises(ConcurrentChange):
        services.task_transition(task_id=task.pk, actor=org.member2, name="assign", expected_state=S.QUEUED)
    assert TaskTransition.objects.count() == rows
    task.refresh_from_db()
    assert task.assignee == org.member


def test_a_stale_instance_cannot_overwrite_a_newer_state(org, open_case):
    """The FSM's optimistic check: a save from a copy read before another change fails."""
    from django.db import transaction
    from django_fsm import ConcurrentTransition

    task = task_in(org, open_case, S.QUEUED)
    stale = Task.objects.get(pk=task.pk)
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    stale.assign(assignee=org.member2)
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()


def test_every_transition_writes_one_audit_row_with_actor_time_and_reason(org, open_case):
    task = task_in(org, open_case, S.ASSIGNED)
    before = timezone.now()
    services.task_transition(task_id=task.pk, actor=org.member, name="return", reason="工作量已满")
    rows = list(task.transitions.order_by("at", "id"))
    assert [(r.transition, r.from_state, r.to_state) for r in rows] == [
        ("receive", "", S.RECEIVED),
        ("transfer", S.RECEIVED, S.QUEUED),
        ("assign", S.QUEUED, S.ASSIGNED),
        ("return", S.ASSIGNED, S.QUEUED),
    ]
    last = rows[-1]
    assert (last.actor, last.reason) == (org.member, "工作量已满")
    assert last.at >= before


def test_the_system_acts_with_no_actor(org, open_case):
    task = task_in(org, open_case, S.QUEUED)
    task = services.task_transition(task_id=task.pk, actor=None, name="assign", assignee_id=org.member.pk)
    assert task.transitions.last().actor is None
    assert task.transitions.last().actor_label


def test_the_transition_log_is_append_only(org, open_case):
    row = open_case("assisted").tasks.get().transitions.get()
    row.reason = "rewritten"
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()


def test_the_state_field_cannot_be_set_directly(org, open_case):
    task = open_case("assisted").tasks.get()
    with pytest.raises(AttributeError):
        task.state = S.DONE


def test_an_unknown_transition_is_invalid_input(org, open_case):
    task = open_case("assisted").tasks.get()
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.admin, name="teleport")


def test_a_bulk_action_is_all_or_nothing(org, open_case):
    first = task_in(org, open_case, S.QUEUED)
    second = task_in(org, open_case, S.QUEUED)
    services.task_transition(task_id=second.pk, actor=org.member, name="assign")
    with pytest.raises(InvalidInput) as error:
        services.task_transition_many(
            task_ids=[first.pk, second.pk], actor=org.coordinator, name="assign", assignee_id=org.member2.pk
        )
    assert error.value.code == "bulk_refused"
    assert [line.split(":")[0] for line in error.value.fields["tasks"]] == [f"T{second.pk}"]
    assert [(r.task_id, r.code) for r in error.value.refusals] == [(second.pk, "transition_not_allowed")]
    first.refresh_from_db()
    assert (first.state, first.assignee) == (S.QUEUED, None)
    third = task_in(org, open_case, S.QUEUED)
    done = services.task_transition_many(
        task_ids=[third.pk, first.pk], actor=org.coordinator, name="assign", assignee_id=org.member2.pk
    )
    assert [t.pk for t in done] == sorted([first.pk, third.pk])
    assert all(t.assignee == org.member2 for t in done)


def test_a_bulk_action_needs_tasks(org):
    with pytest.raises(InvalidInput):
        services.task_transition_many(task_ids=[], actor=org.coordinator, name="assign")
