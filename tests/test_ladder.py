"""The escalation ladder (taxservice/workflow/ladder): each step once per due time, on the
working-day calendar; the notice list (通报) in the API and on its page; the admin's audited
edits; the set-based SQL against its ORM reference."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow import sql
from taxservice.workflow.cases import services as task_services
from taxservice.workflow.cases.models import Notification, Task, TaskState, TaskTransition
from taxservice.workflow.ladder import services
from taxservice.workflow.ladder.models import Escalation, EscalationStep, EscalationStepChange, Watch

S = TaskState
TZ = timezone.get_current_timezone()
ACTIONS = ("remind", "urge", "supervise", "notice")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@contextmanager
def on(*args):
    with time_machine.travel(at(*args), tick=False):
        yield


def step(org, task, name, actor, **kwargs) -> Task:
    return task_services.task_transition(task_id=task.pk, actor=getattr(org, actor), name=name, **kwargs)


def scan(*args) -> services.ScanResult:
    with on(*args):
        return services.ladder_scan()


def ladder_log(task) -> list[str]:
    return list(TaskTransition.objects.filter(task=task, transition__in=ACTIONS).values_list("transition", flat=True))


def told(task, action) -> set[str]:
    return set(
        Notification.objects.filter(task=task, transition__transition=action).values_list(
            "recipient__user__username", flat=True
        )
    )


@pytest.fixture
def back_task(org, open_case, items):
    """A 一问联办 task in SRC1's basic team, in progress with back_member since Monday
    2026-11-23 10:00: 10 working days, due Monday 2026-12-07 at 17:30."""
    with on(2026, 11, 23, 10, 0):
        task = open_case("joint").tasks.get()
        task = step(org, task, "transfer", "clerk")
        task = step(org, task, "assign", "back_member")
        task = step(org, task, "accept", "back_member")
    assert timezone.localtime(task.due_at, TZ) == at(2026, 12, 7, 17, 30)
    return task


def test_the_shipped_ladder_is_the_domain_default(db):
    steps = list(EscalationStep.objects.values_list("action", "watch", "offset_days", "to_assignee", "to_chiefs"))
    assert steps == [
        ("remind", Watch.PROMISE, -1, True, False),
        ("urge", Watch.PROMISE, 1, True, False),
        ("supervise", Watch.PROMISE, 3, False, True),
        ("notice", Watch.PROMISE, 5, True, True),
    ]


def test_each_step_is_sent_once_on_its_working_day_and_a_second_scan_sends_nothing(org, back_task):
    assert scan(2026, 12, 3, 16, 0).sent == 0  # Thursday: two working days before
    assert scan(2026, 12, 4, 9, 0).by_step == {
        "remind-before-1": 1,
        "urge-after-1": 0,
        "supervise-after-3": 0,
        "notice-after-5": 0,
    }
    assert told(back_task, "remind") == {"back"}
    assert scan(2026, 12, 4, 9, 5).sent == 0
    assert scan(2026, 12, 5, 11, 0).sent == 0  # Saturday
    assert scan(2026, 12, 7, 17, 0).sent == 0  # the due day itself
    assert scan(2026, 12, 8, 9, 0).by_step["urge-after-1"] == 1  # the working day after
    assert told(back_task, "urge") == {"back"}
    assert scan(2026, 12, 9, 9, 0).sent == 0
    assert scan(2026, 12, 10, 9, 0).by_step["supervise-after-3"] == 1
    assert told(back_task, "supervise") == {"chief"}  # SRC1's chief; not SRC2's
    assert scan(2026, 12, 11, 9, 0).sent == 0
    assert scan(2026, 12, 14, 9, 0).by_step["notice-after-5"] == 1  # Monday: five working days past
    assert told(back_task, "notice") == {"back", "chief"}
    assert scan(2026, 12, 15, 9, 0).sent == 0
    assert ladder_log(back_task) == list(ACTIONS)
    assert Escalation.objects.filter(task=back_task).count() == 4


def test_a_history_row_per_step_with_the_system_as_actor_and_the_inbox_points_at_it(org, back_task):
    scan(2026, 12, 8, 9, 0)
    log = TaskTransition.objects.get(task=back_task, transition="urge")
    assert (log.actor_id, log.from_state, log.to_state) == (None, S.IN_PROGRESS, S.IN_PROGRESS)
    assert log.details == {"step": "urge-after-1", "due_at": "2026-12-07 17:30"}
    assert log.at == at(2026, 12, 8, 9, 0)
    escalation = Escalation.objects.get(task=back_task, step__code="urge-after-1")
    assert escalation.transition == log and escalation.due_at == back_task.due_at
    note = Notification.objects.get(transition=log)
    assert note.recipient == org.back_member and note.task_id == back_task.pk
    # The bureau's language, whatever the request's.
    assert f"T{back_task.pk}" in note.message and "2026-12-07 17:30" in note.message and "催办" in note.message
    # The scan leaves the clocks alone: its rows are not steps of the work.
    back_task.refresh_from_db()
    assert timezone.localtime(back_task.due_at, TZ) == at(2026, 12, 7, 17, 30)


def test_a_late_first_scan_sends_every_step_passed_but_no_reminder_for_a_task_already_overdue(org, back_task):
    result = scan(2026, 12, 14, 9, 0)
    assert result.by_step == {"remind-before-1": 0, "urge-after-1": 1, "supervise-after-3": 1, "notice-after-5": 1}
    assert ladder_log(back_task) == ["urge", "supervise", "notice"]


def test_an_extension_moves_the_due_time_and_the_ladder_starts_again_for_it(org, back_task):
    scan(2026, 12, 8, 9, 0)
    assert ladder_log(back_task) == ["urge"]
    with on(2026, 12, 8, 10, 0):
        task = step(org, back_task, "request_extension", "back_member", days=3, reason="需实地核查")
        task = step(org, task, "approve_extension", "chief", reason="同意")
    assert timezone.localtime(task.due_at, TZ) == at(2026, 12, 10, 17, 30)
    assert scan(2026, 12, 8, 10, 5).sent == 0  # the new due time is two working days away
    assert scan(2026, 12, 9, 9, 0).by_step["remind-before-1"] == 1
    assert scan(2026, 12, 11, 9, 0).by_step["urge-after-1"] == 1
    assert ladder_log(task) == ["urge", "remind", "urge"]
    assert set(Escalation.objects.filter(task=task).values_list("step__code", "due_at")) == {
        ("urge-after-1", at(2026, 12, 7, 17, 30)),
        ("remind-before-1", at(2026, 12, 10, 17, 30)),
        ("urge-after-1", at(2026, 12, 10, 17, 30)),
    }


def test_a_task_awaiting_materials_is_skipped_while_its_clocks_are_paused(org, back_task):
    with on(2026, 12, 4, 8, 0):
        step(org, back_task, "request_materials", "back_member", reason="补正资料")
    assert scan(2026, 12, 14, 9, 0).sent == 0
    assert ladder_log(back_task) == []


def test_closed_and_cancelled_tasks_are_never_escalated(org, open_case, back_task):
    with on(2026, 11, 23, 10, 0):
        cancelled = step(org, open_case("assisted").tasks.get(), "cancel", "clerk", reason="纳税人撤回")
        done = step(org, back_task, "submit_for_approval", "back_member", result="已核查")
        done = step(org, done, "approve", "chief")
        done = step(org, done, "give_feedback", "back_member", result="已告知", channel="hall_window")
    assert done.state == S.CLOSED and cancelled.state == S.CANCELLED
    assert scan(2026, 12, 31, 9, 0).sent == 0
    assert not Escalation.objects.exists()


def test_an_unassigned_task_tells_its_branch_chiefs_instead_of_an_assignee(org, open_case):
    with on(2026, 11, 23, 10, 0):
        task = step(org, open_case("joint").tasks.get(), "transfer", "clerk")
    assert task.state == S.QUEUED and task.assignee_id is None
    scan(2026, 12, 8, 9, 0)
    assert told(task, "urge") == {"chief"}


def test_a_step_on_the_running_clock_watches_the_running_due_time(org, back_task):
    EscalationStep.objects.update(active=False)
    services.escalation_step_save(
        actor=org.admin,
        step=EscalationStep(
            code="handling-after-1", name="办理时限逾期催办", action="urge", watch=Watch.RUNNING, offset_days=1
        ),
    )
    back_task.refresh_from_db()
    assert back_task.clock == "handling" and back_task.clock_due_at is not None
    day_after = WorkCalendar.load().add_working_days(timezone.localtime(back_task.clock_due_at, TZ).date(), 1)
    assert scan(*(day_after - dt.timedelta(days=1)).timetuple()[:3], 12, 0).sent == 0
    assert scan(*day_after.timetuple()[:3], 9, 0).by_step == {"handling-after-1": 1}
    assert Escalation.objects.get().due_at == back_task.clock_due_at


def test_an_inactive_step_sends_nothing(org, back_task):
    EscalationStep.objects.exclude(code="urge-after-1").update(active=False)
    assert scan(2026, 12, 31, 9, 0).by_step == {"urge-after-1": 1}


@pytest.mark.parametrize(
    ("offset", "today", "before"),
    [
        (1, dt.date(2026, 12, 8), dt.date(2026, 12, 8)),  # Tuesday: due Monday or earlier
        (1, dt.date(2026, 12, 7), dt.date(2026, 12, 7)),  # Monday: due Friday, or over the weekend
        (1, dt.date(2026, 12, 6), dt.date(2026, 12, 4)),  # Sunday: as on Friday, due Thursday or earlier
        (-1, dt.date(2026, 12, 4), dt.date(2026, 12, 8)),  # Friday: due by Monday
        (0, dt.date(2026, 12, 9), dt.date(2026, 12, 10)),
        (3, dt.date(2026, 12, 10), dt.date(2026, 12, 8)),
    ],
)
def test_the_step_window_is_one_threshold_on_the_due_time(db, offset, today, before):
    now = at(today.year, today.month, today.day, 12, 0)
    after, threshold = services.step_window(offset_days=offset, now=now, cal=WorkCalendar())
    assert threshold == at(before.year, before.month, before.day)
    assert after == (now if offset <= 0 else None)


def test_the_admin_edits_a_step_and_every_edit_is_recorded(client, org):
    client.force_login(org.admin.user)
    org.admin.user.is_staff = org.admin.user.is_superuser = True
    org.admin.user.save()
    urge = EscalationStep.objects.get(code="urge-after-1")
    url = reverse("admin:ladder_escalationstep_change", args=[urge.pk])
    assert client.get(url).status_code == 200
    data = {
        "code": urge.code,
        "name": urge.name,
        "action": "urge",
        "watch": "promise",
        "offset_days": 2,
        "to_assignee": "on",
        "active": "on",
        "order": urge.order,
        "changes-TOTAL_FORMS": 0,
        "changes-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    change = EscalationStepChange.objects.filter(step=urge).latest("id")
    assert change.changed_by == org.admin
    assert (change.before["offset_days"], change.after["offset_days"]) == (1, 2)
    assert client.get(reverse("admin:ladder_escalation_changelist")).status_code == 200


# --- the notice list (通报) -------------------------------------------------------------------


@pytest.fixture
def noticed(org, back_task):
    scan(2026, 12, 14, 9, 0)
    return back_task


def test_the_notices_api_lists_the_noticed_tasks_a_supervisor_may_see(api, org, noticed):
    for staff, expected in [(org.chief, [noticed.pk]), (org.coordinator, [noticed.pk]), (org.chief2, [])]:
        response = api(staff).get("/api/v1/notices/")
        assert response.status_code == 200, response.json()
        assert [row["id"] for row in response.json()["results"]] == expected
    row = api(org.admin).get("/api/v1/notices/").json()["results"][0]
    assert row["item"] == "J001" and row["assignee_name"] == org.back_member.name
    assert row["noticed_at"] is not None


def test_the_notices_api_refuses_a_clerk_with_a_code(api, org, noticed):
    response = api(org.clerk).get("/api/v1/notices/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_task_leaves_the_notice_list_when_its_due_time_moves_or_it_closes(api, org, noticed):
    with on(2026, 12, 14, 10, 0):
        task = step(org, noticed, "request_extension", "back_member", days=10, reason="需实地核查")
        step(org, task, "approve_extension", "chief", reason="同意")
    assert api(org.admin).get("/api/v1/notices/").json()["count"] == 0


def test_the_notices_api_is_in_the_schema(api, org):
    schema = api(org.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/notices/" in schema["paths"]


def test_the_notice_page_is_for_supervisors_and_shows_what_they_may_see(client, org, noticed):
    client.force_login(org.chief.user)
    page = client.get("/notices/")
    assert page.status_code == 200
    assert f"T{noticed.pk}" in page.content.decode()
    assert 'href="/notices/"' in page.content.decode()  # in the navigation
    client.force_login(org.chief2.user)
    assert f"T{noticed.pk}" not in client.get("/notices/").content.decode()
    client.force_login(org.clerk.user)
    response = client.get("/notices/")
    assert response.status_code == 403
    assert 'href="/notices/"' not in client.get("/").content.decode()


def test_the_management_command_runs_the_scan(org, back_task, capsys):
    from django.core.management import call_command

    call_command("ladder_scan", "--at", "2026-12-08T09:00+08:00")
    assert "urge-after-1" in capsys.readouterr().out
    assert ladder_log(back_task) == ["urge"]


# --- the set-based SQL against its ORM reference ---------------------------------------------


class _Rollback(Exception):
    pass


def _rows_of_a_scan(now: dt.datetime, *, fast: bool, monkeypatch) -> dict:
    monkeypatch.setattr(sql, "_fast", lambda: fast)
    rows: dict = {}
    try:
        with transaction.atomic():
            services.ladder_scan(now=now)
            rows["escalations"] = sorted(
                Escalation.objects.values_list("task_id", "step__code", "due_at", "sent_at", "transition__transition")
            )
            rows["log"] = sorted(
                (t, n, f, to, a, at_, r, sorted(d.items()))
                for t, n, f, to, a, at_, r, d in TaskTransition.objects.filter(transition__in=ACTIONS).values_list(
                    "task_id", "transition", "from_state", "to_state", "actor_id", "at", "reason", "details"
                )
            )
            rows["notes"] = sorted(
                Notification.objects.filter(transition__transition__in=ACTIONS).values_list(
                    "recipient_id", "task_id", "transition__transition", "transition__details", "message", "created_at"
                ),
                key=repr,
            )
            raise _Rollback
    except _Rollback:
        pass
    return rows


def test_the_postgresql_statement_writes_what_the_orm_reference_writes(org, open_case, back_task, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's: runs in the PostgreSQL pass of .ci/run")
    with on(2026, 11, 30, 10, 0):
        queued = step(org, open_case("joint").tasks.get(), "transfer", "clerk")  # unassigned: the chiefs
        step(org, open_case("assisted").tasks.get(), "transfer", "clerk")  # a team without a chief
    assert queued.assignee_id is None
    now = at(2026, 12, 21, 9, 0)
    reference = _rows_of_a_scan(now, fast=False, monkeypatch=monkeypatch)
    fast = _rows_of_a_scan(now, fast=True, monkeypatch=monkeypatch)
    assert len(reference["escalations"]) >= 6 and len(reference["notes"]) >= 6
    assert fast == reference
