"""Administrators' calendar overrides (taxservice/workdays/services.py): validated, audited,
and recomputing the open tasks' due times while the closed ones keep theirs."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from taxservice.errors import ActionForbidden, InvalidInput, NotFound
from taxservice.workdays import selectors
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute, DayKind
from taxservice.workdays.services import calendar_override_remove, calendar_override_set, clock_recompute_start
from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import Task, TaskState, TaskTransition
from tests.test_services_transitions import drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

S = TaskState
TZ = timezone.get_current_timezone()
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # no holiday nearby
TUESDAY = dt.date(2026, 3, 3)


def local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value, TZ)


@pytest.fixture
def tasks(org, open_case):
    """Tasks of the 3-working-day item received on Monday 2 March 2026, one per state."""
    with time_machine.travel(MONDAY, tick=False):
        return {
            state: drive(org, open_case("assisted").tasks.get(), state)
            for state in (S.QUEUED, S.IN_PROGRESS, S.CLOSED, S.CANCELLED)
        }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what a commit would start (the recomputation, inline in tests)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def recompute_rows(task: Task) -> list[TaskTransition]:
    return list(TaskTransition.objects.filter(task=task, transition=clocks.RECOMPUTE_DUE))


def test_an_override_moves_the_open_due_times_and_not_the_closed_ones(org, tasks, committed):
    due_before = {state: local(task.due_at) for state, task in tasks.items()}
    assert due_before[S.QUEUED] == dt.datetime(2026, 3, 5, 17, 30, tzinfo=TZ)  # Thursday

    with committed():
        calendar_override_set(actor=org.admin, date=TUESDAY, kind=DayKind.HOLIDAY, name="停电", reason="全市停电一天")

    for state, task in tasks.items():
        task.refresh_from_db()
        if state in (S.QUEUED, S.IN_PROGRESS):
            assert local(task.due_at) == dt.datetime(2026, 3, 6, 17, 30, tzinfo=TZ), state  # a day later
            [row] = recompute_rows(task)
            assert "2026-03-03" in row.reason
            assert dt.datetime.fromisoformat(row.details["due_at"][1]) == task.due_at
        else:
            assert local(task.due_at) == due_before[state], state
            assert recompute_rows(task) == [], state
    run = ClockRecompute.objects.get()
    assert (run.state, run.total, run.moved, run.requested_by) == (ClockRecompute.State.DONE, 2, 2, org.admin)
    assert "2026-03-03" in run.cause


def test_recomputing_again_moves_nothing(org, tasks, committed):
    with committed():
        calendar_override_set(actor=org.admin, date=TUESDAY, kind=DayKind.HOLIDAY, name="", reason="停电")
    assert Task.objects.filter(transitions__transition=clocks.RECOMPUTE_DUE).count() == 2
    rows = TaskTransition.objects.count()
    dues = dict(Task.objects.values_list("pk", "due_at"))
    again = clock_recompute_start(actor=None, cause="manual")
    run = clocks.recompute(again.pk)
    assert (run.state, run.moved) == (ClockRecompute.State.DONE, 0)
    assert TaskTransition.objects.count() == rows
    assert dict(Task.objects.values_list("pk", "due_at")) == dues


def test_removing_the_override_moves_the_due_times_back(org, tasks, committed):
    task = tasks[S.QUEUED]
    with committed():
        calendar_override_set(actor=org.admin, date=TUESDAY, kind=DayKind.HOLIDAY, name="", reason="停电")
    with committed():
        change = calendar_override_remove(actor=org.admin, date="2026-03-03", reason="恢复供电")
    task.refresh_from_db()
    assert local(task.due_at) == dt.datetime(2026, 3, 5, 17, 30, tzinfo=TZ)
    assert len(recompute_rows(task)) == 2
    assert not CalendarOverride.objects.exists()
    assert (change.before_kind, change.after_kind, change.override_removed) == ("holiday", "workday", True)
    change.recompute.refresh_from_db()
    assert change.recompute.state == ClockRecompute.State.DONE


def test_each_change_writes_one_audit_row_with_who_and_why(org):
    calendar_override_set(
        actor=org.admin, date="2027-02-06", kind=DayKind.HOLIDAY, name="Spring Festival", reason="国务院通知"
    )
    calendar_override_set(
        actor=org.admin, date="2027-02-06", kind=DayKind.ADJUSTED_WORKDAY, name="Spring Festival", reason="更正"
    )
    calendar_override_remove(actor=org.admin, date=dt.date(2027, 2, 6), reason="撤回")
    log = list(CalendarChange.objects.order_by("id").values_list("before_kind", "after_kind", "reason", "actor"))
    assert log == [
        ("weekend", "holiday", "国务院通知", org.admin.pk),
        ("holiday", "adjusted_workday", "更正", org.admin.pk),
        ("adjusted_workday", "weekend", "撤回", org.admin.pk),
    ]
    # A Saturday becoming a holiday stays idle: no due time can move, so nothing is recomputed.
    assert [change.recompute_id is None for change in CalendarChange.objects.order_by("id")] == [True, False, False]
    assert WorkCalendar.load().day(dt.date(2027, 2, 6)).source == "weekday"


def test_only_administrators_change_the_calendar(org):
    for staff in (org.clerk, org.coordinator, org.chief, org.member):
        with pytest.raises(ActionForbidden):
            calendar_override_set(actor=staff, date="2027-01-01", kind=DayKind.HOLIDAY, name="", reason="元旦")
        with pytest.raises(ActionForbidden):
            calendar_override_remove(actor=staff, date="2027-01-01", reason="x")
    assert not CalendarOverride.objects.exists() and not CalendarChange.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"reason": ""}, "reason_required", "reason"),
        ({"reason": "   "}, "reason_required", "reason"),
        ({"reason": "x" * 501}, "reason_too_long", "reason"),
        ({"kind": "festival"}, "invalid_kind", "kind"),
        ({"name": "名" * 51}, "name_too_long", "name"),
        ({"date": "2027-13-01"}, "invalid_date", "date"),
        ({"date": ""}, "required", "date"),
        ({"date": "1999-12-31"}, "date_out_of_range", "date"),
        ({"date": "2101-01-01"}, "date_out_of_range", "date"),
        ({"kind": DayKind.WORKDAY, "name": "假日"}, "name_not_allowed", "name"),
        # New Year's Day 2026 is a holiday in the package already.
        ({"date": "2026-01-01", "name": "New Year's Day"}, "nothing_to_change", "kind"),
    ],
)
def test_it_refuses_invalid_overrides_and_writes_nothing(org, changes, code, field):
    arguments = {"date": "2027-01-01", "kind": DayKind.HOLIDAY, "name": "", "reason": "元旦"} | changes
    with pytest.raises(InvalidInput) as refused:
        calendar_override_set(actor=org.admin, **arguments)
    assert refused.value.code == code
    assert field in refused.value.fields
    assert not CalendarOverride.objects.exists() and not CalendarChange.objects.exists()
    assert not ClockRecompute.objects.exists()


def test_it_reports_every_invalid_field_at_once(org):
    with pytest.raises(InvalidInput) as refused:
        calendar_override_set(actor=org.admin, date="tomorrow", kind="x", name="", reason="")
    assert set(refused.value.fields) == {"date", "kind", "reason"}


def test_an_override_the_day_already_has_is_refused_but_a_new_name_is_not(org):
    calendar_override_set(actor=org.admin, date="2027-01-01", kind=DayKind.HOLIDAY, name="", reason="元旦")
    with pytest.raises(InvalidInput) as refused:
        calendar_override_set(actor=org.admin, date="2027-01-01", kind=DayKind.HOLIDAY, name="", reason="again")
    assert refused.value.code == "nothing_to_change"
    calendar_override_set(actor=org.admin, date="2027-01-01", kind=DayKind.HOLIDAY, name="元旦", reason="名称")
    assert CalendarOverride.objects.get().name == "元旦"
    assert CalendarChange.objects.count() == 2


def test_removing_a_date_without_an_override_is_refused(org):
    with pytest.raises(NotFound) as refused:
        calendar_override_remove(actor=org.admin, date="2027-01-01", reason="x")
    assert refused.value.code == "no_override"
    with pytest.raises(InvalidInput) as refused:
        calendar_override_remove(actor=org.admin, date="2027-01-01", reason="")
    assert refused.value.code == "reason_required"


def test_the_years_to_enter_are_those_the_package_and_the_overrides_do_not_cover(org):
    assert selectors.years_to_enter(today=dt.date(2026, 12, 1)) == [2027]
    assert selectors.years_to_enter(today=dt.date(2025, 6, 1)) == []
    calendar_override_set(actor=org.admin, date="2027-01-01", kind=DayKind.HOLIDAY, name="", reason="元旦")
    assert selectors.years_to_enter(today=dt.date(2026, 12, 1)) == []


def test_the_month_grid_starts_on_monday_and_pads_with_none(org):
    month = selectors.calendar_month(year=2026, month=2)
    assert month.weeks[0][:6] == [None] * 6  # 1 February 2026 is a Sunday
    assert month.weeks[0][6].date == dt.date(2026, 2, 1)
    days = {day.date.day: day for week in month.weeks for day in week if day is not None}
    assert len(days) == 28
    assert days[14].kind == DayKind.ADJUSTED_WORKDAY and days[16].kind == DayKind.HOLIDAY
    assert (month.previous, month.next) == (dt.date(2026, 1, 1), dt.date(2026, 3, 1))


def test_the_command_fills_the_clocks_of_tasks_from_before_the_upgrade_once(org, tasks):
    open_ids = [tasks[S.QUEUED].pk, tasks[S.IN_PROGRESS].pk]
    wanted = dict(Task.objects.filter(pk__in=open_ids).values_list("pk", "clock_due_at"))
    Task.objects.filter(pk=tasks[S.IN_PROGRESS].pk).update(clock="", clock_due_at=None, clock_at_risk_at=None)
    closed = Task.objects.filter(pk=tasks[S.CLOSED].pk).values("due_at", "clock", "clock_due_at").get()

    out = StringIO()
    call_command("recompute_clocks", stdout=out)
    assert "2 of 2 open tasks checked; 1 had their due times moved." in out.getvalue()
    assert dict(Task.objects.filter(pk__in=open_ids).values_list("pk", "clock_due_at")) == wanted
    assert len(recompute_rows(tasks[S.IN_PROGRESS])) == 1 and recompute_rows(tasks[S.QUEUED]) == []
    assert Task.objects.filter(pk=tasks[S.CLOSED].pk).values("due_at", "clock", "clock_due_at").get() == closed
    run = ClockRecompute.objects.get()
    assert (run.cause, run.requested_by, run.state) == ("manual", None, ClockRecompute.State.DONE)

    out = StringIO()
    call_command("recompute_clocks", "--item", "A001", stdout=out)
    assert "2 of 2 open tasks checked; 0 had their due times moved." in out.getvalue()


def test_the_command_refuses_an_unknown_item(org):
    with pytest.raises(CommandError):
        call_command("recompute_clocks", "--item", "NOPE")
