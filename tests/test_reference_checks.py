"""The statement-level reference checks that stand in for per-row foreign keys on the
dispatcher's hot tables (cases.models.REFERENCE_CHECKS; PostgreSQL only)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from taxservice.bulk import insert_rows
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import REFERENCE_CHECKS, TaskAssignment, TaskTransition
from taxservice.workflow.routing.models import DispatchDecision

MISSING = 10**12

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL triggers: runs in the PostgreSQL pass of .ci/run"
)


@pytest.fixture
def assigned(org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return services.task_transition(task_id=task.pk, actor=org.member, name="assign")


def rejected(sql: str, params: list) -> str:
    """Run `sql` in a savepoint; return the error it must raise."""
    with pytest.raises(IntegrityError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(raised.value)


def test_every_reference_has_its_insert_update_and_delete_triggers(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE '%%_ref_%%'"
        )
        triggers = set(cursor.fetchall())
    for child, column, parent in REFERENCE_CHECKS:
        assert (child, f"{child}_{column}_ref_ins") in triggers
        assert (child, f"{child}_{column}_ref_upd") in triggers
        assert (parent, f"{parent}_{child}_{column}_ref_del") in triggers


def test_rows_pointing_at_a_missing_task_or_person_are_refused_and_nothing_is_written(org, assigned):
    now = timezone.now()
    before = (TaskAssignment.objects.count(), TaskTransition.objects.count(), DispatchDecision.objects.count())
    message = rejected(
        "INSERT INTO cases_taskassignment (task_id, staff_id, active, assigned_at) VALUES (%s, %s, false, %s)",
        [MISSING, org.member.pk, now],
    )
    assert "task_id" in message and str(MISSING) in message
    assert "staff_id" in rejected(
        "INSERT INTO cases_taskassignment (task_id, staff_id, active, assigned_at) VALUES (%s, %s, false, %s)",
        [assigned.pk, MISSING, now],
    )
    assert "task_id" in rejected(
        "INSERT INTO cases_tasktransition (task_id, transition, from_state, to_state, at, reason, details) "
        "VALUES (%s, 'x', '', 'queued', %s, '', '{}')",
        [MISSING, now],
    )
    assert "task_id" in rejected(
        "UPDATE cases_taskassignment SET task_id = %s WHERE task_id = %s", [MISSING, assigned.pk]
    )
    # The robot's COPY path: one bad row among good ones fails the whole statement.
    fields = ("task_id", "transition", "from_state", "to_state", "at", "reason", "details")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(TaskTransition, fields, [(assigned.pk, "x", "", "queued", now, "", {}), (MISSING, "x", "", "queued", now, "", {})])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(
            DispatchDecision,
            ("task_id", "at", "candidates", "removed", "eligible", "loads", "chooser", "chooser_state", "outcome"),
            [(MISSING, now, [], [], [], {}, "random", {}, "no_candidate")],
        )
    after = (TaskAssignment.objects.count(), TaskTransition.objects.count(), DispatchDecision.objects.count())
    assert after == before


def test_a_task_or_person_still_pointed_at_cannot_be_deleted(org, assigned):
    assert "is still referenced" in rejected("DELETE FROM cases_task WHERE id = %s", [assigned.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        # Without its assignments and decisions, the task is still held by its log.
        cursor.execute("DELETE FROM cases_taskassignment WHERE task_id = %s", [assigned.pk])
        cursor.execute("DELETE FROM routing_dispatchdecision WHERE task_id = %s", [assigned.pk])
        with pytest.raises(IntegrityError, match="cases_tasktransition"), transaction.atomic():
            cursor.execute("DELETE FROM cases_task WHERE id = %s", [assigned.pk])
        transaction.set_rollback(True)
    assert "cases_taskassignment.staff_id" in rejected("DELETE FROM org_staff WHERE id = %s", [org.member.pk])
    assert TaskAssignment.objects.filter(task=assigned).exists()


def test_the_orm_still_deletes_a_task_with_its_dependants_in_order(org, assigned):
    TaskTransition.objects.filter(task=assigned).delete()  # the demo reset's sanctioned path
    assigned.intakes.all().delete()
    assigned.notifications.all().delete()
    assigned.delete()  # assignments and decisions cascade first, then the task
    assert not TaskAssignment.objects.filter(task_id=assigned.pk).exists()
