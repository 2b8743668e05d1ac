"""A task's clocks (taxservice/workflow/cases/clocks.py): derived from its log on the
working-day calendar, stored by every transition, moved by pauses and extensions."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from taxservice.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow.cases import clocks, services
from taxservice.workflow.cases.models import ClockName, Task, TaskState, TaskTransition
from tests.test_services_transitions import drive

S = TaskState
TZ = timezone.get_current_timezone()


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value, TZ)


def step(org, task, name, actor, **kwargs) -> Task:
    return services.task_transition(task_id=task.pk, actor=getattr(org, actor), name=name, **kwargs)


@pytest.fixture
def back_task(org, open_case, items):
    """A 一问联办 task (10 working days, needs approval) in SRC1's basic team, in progress."""
    task = open_case("joint").tasks.get()
    task = step(org, task, "transfer", "clerk")
    assert task.team == org.basic
    task = step(org, task, "assign", "back_member")
    return step(org, task, "accept", "back_member")


def test_a_transferred_on_the_spot_item_gets_its_own_limit_not_due_when_received(org, open_case, items):
    with time_machine.travel(at(2026, 11, 26, 10, 0), tick=False):  # a Thursday
        task = open_case("immediate").tasks.get()
        assert task.due_at == timezone.now()  # on the spot while the taxpayer is there
        task = step(org, task, "transfer", "clerk")
    # Three working days (the item's transfer limit) from receipt: Tuesday 1 December.
    assert local(task.due_at) == at(2026, 12, 1, 17, 30)
    with time_machine.travel(at(2026, 11, 26, 10, 1), tick=False):
        assert clocks.glance(task, WorkCalendar.load(), timezone.now()).status == "ok"


def test_due_times_skip_national_day(org, open_case, items):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        task = open_case("assisted").tasks.get()  # 3 working days
    assert local(task.due_at) == at(2026, 10, 10, 17, 30)  # 8, 9 and the make-up Saturday 10 October


def test_the_internal_clocks_follow_the_task_through_its_life(org, open_case, items):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):  # Monday
        task = drive(org, open_case("assisted").tasks.get(), S.ASSIGNED)
    assert task.clock == ClockName.ACCEPTANCE
    assert local(task.clock_due_at) == at(2026, 11, 24, 17, 30)  # one working day
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        task = step(org, task, "accept", "member")
    assert task.clock == ClockName.HANDLING
    assert local(task.clock_due_at) == at(2026, 11, 26, 17, 30)  # the item's 3 days
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        task = step(org, task, "complete", "member", result="已办理")
    assert task.clock == ClockName.FEEDBACK
    assert local(task.clock_due_at) == at(2026, 11, 26, 17, 30)  # two working days
    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        task = step(org, task, "give_feedback", "member", result="已电话告知")
    assert task.clock == "" and task.clock_due_at is None
    derived = clocks.for_task(task)
    assert [c.stopped_at is not None for c in (derived.promise, *derived.internal())] == [True, True, True, True]
    assert derived.promise.status(WorkCalendar.load(), timezone.now()) == "met"


def test_waiting_for_materials_pauses_the_promise_and_the_handling_clock(org, open_case, items):
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):  # Monday
        task = drive(org, open_case("assisted").tasks.get(), S.IN_PROGRESS)
        due, handling_due = task.due_at, task.clock_due_at
        task = step(org, task, "request_materials", "member", reason="补正营业执照复印件")
    cal = WorkCalendar.load()
    with time_machine.travel(at(2026, 11, 30, 10, 0), tick=False):  # a week later: past the old due time
        assert clocks.glance(task, cal, timezone.now()).status == "paused"
        task = step(org, task, "receive_materials", "clerk")
    waited = cal.working_seconds_between(at(2026, 11, 23, 10, 0), at(2026, 11, 30, 10, 0))
    assert waited == 5 * cal.seconds_per_day
    assert task.due_at == cal.add_working_seconds(due, waited)
    assert task.clock_due_at == cal.add_working_seconds(handling_due, waited)


def test_an_extension_granted_moves_the_due_times_and_a_refused_one_does_not(org, back_task):
    cal = WorkCalendar.load()
    due, handling_due = back_task.due_at, back_task.clock_due_at
    task = step(org, back_task, "request_extension", "back_member", days=3, reason="需实地核查")
    assert task.extension_requested_days == 3 and task.due_at == due
    with pytest.raises(TransitionNotAllowed) as pending:
        step(org, task, "request_extension", "back_member", days=1, reason="再延")
    assert pending.value.code == "extension_pending"
    with pytest.raises(ActionForbidden):
        step(org, task, "approve_extension", "back_member")  # only the chief decides
    task = step(org, task, "approve_extension", "chief", reason="同意")
    assert task.extension_requested_days is None and task.extension_granted_days == 3
    assert task.due_at == cal.shift_working_days(due, 3)
    assert task.clock_due_at == cal.shift_working_days(handling_due, 3)
    moved = task.due_at
    task = step(org, task, "request_extension", "back_member", days=2, reason="仍需补充")
    task = step(org, task, "reject_extension", "chief", reason="时间已足够")
    assert task.due_at == moved and task.extension_granted_days == 3
    log = list(TaskTransition.objects.filter(task=task).values_list("transition", "details__days"))
    assert ("approve_extension", 3) in log and ("reject_extension", 2) in log


def test_extensions_are_capped_per_item_and_need_days_and_a_reason(org, back_task):
    with pytest.raises(InvalidInput) as no_days:
        step(org, back_task, "request_extension", "back_member", reason="需实地核查")
    assert no_days.value.code == "days_required"
    with pytest.raises(InvalidInput) as no_reason:
        step(org, back_task, "request_extension", "back_member", days=2)
    assert no_reason.value.code == "reason_required"
    with pytest.raises(InvalidInput) as capped:
        step(org, back_task, "request_extension", "back_member", days=11, reason="需实地核查")
    assert capped.value.code == "extension_cap_exceeded"
    task = step(org, back_task, "request_extension", "back_member", days=10, reason="需实地核查")
    task = step(org, task, "approve_extension", "chief")
    with pytest.raises(InvalidInput) as spent:
        step(org, task, "request_extension", "back_member", days=1, reason="再延")
    assert spent.value.code == "extension_cap_exceeded"
    assert not TaskTransition.objects.filter(task=task, transition="request_extension", details__days=1).exists()


def test_the_robot_s_set_based_assignment_stores_what_refresh_would(org, open_case, items):
    from taxservice.workflow.cases.assignments import BulkAssignment, tasks_assign_bulk

    tasks = [drive(org, open_case("assisted").tasks.get(), S.QUEUED) for _ in range(3)]
    with time_machine.travel(at(2026, 11, 27, 16, 0), tick=False):  # Friday afternoon
        tasks_assign_bulk(
            actor=None,
            rows=[BulkAssignment(task.pk, org.member.pk, org.member.name, task.item.name, {}) for task in tasks],
        )
    for task in Task.objects.filter(pk__in=[t.pk for t in tasks]):
        assert task.clock == ClockName.ACCEPTANCE
        assert local(task.clock_due_at) == at(2026, 11, 30, 17, 30)
        assert clocks.refresh(task) == []  # the full derivation agrees: nothing to change


def test_derivation_is_deterministic_refreshing_again_changes_nothing(org, back_task):
    assert clocks.refresh_many([back_task.pk]) == []
    Task.objects.filter(pk=back_task.pk).update(due_at=back_task.due_at + dt.timedelta(days=30))
    moved = clocks.refresh_many([back_task.pk])
    assert [(task.pk, task.due_at) for task, _before in moved] == [(back_task.pk, back_task.due_at)]
    assert clocks.refresh_many([back_task.pk]) == []


def test_at_risk_and_overdue_at_a_glance(org, open_case, items):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):  # Monday at opening, 3 working days
        task = open_case("assisted").tasks.get()
    cal = WorkCalendar.load()
    assert clocks.glance(task, cal, at(2026, 11, 23, 10, 0)).status == "ok"
    assert clocks.glance(task, cal, at(2026, 11, 26, 12, 0)).status == "at_risk"  # under a quarter left
    late = clocks.glance(task, cal, at(2026, 11, 27, 10, 0))
    assert late.status == "overdue" and late.left_seconds < 0
