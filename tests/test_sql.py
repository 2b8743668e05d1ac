"""taxservice.workflow.sql: the COPY writer, the array-bound id lookup, the fast paths against their ORM reference."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taxservice.workflow import sql
from taxservice.workflow.cases.models import Task, TaskAssignment, TaskTransition
from taxservice.workflow.cases.services import task_transition
from taxservice.workflow.sql import RawJSON, id_array, insert_rows

AWKWARD = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash \\N", "引号“”'\"", "", "\\"]


@pytest.fixture
def task(org, open_case):
    return open_case("assisted").tasks.get()


def test_insert_rows_round_trips_awkward_text_and_json_and_returns_ids_in_order(task):
    now = timezone.now()
    rows = [
        (task.pk, f"t{n}", "queued", "assigned", None, now, text, {"text": text, "n": n, "list": [1, "\\t"]})
        for n, text in enumerate(AWKWARD)
    ]
    fields = ("task_id", "transition", "from_state", "to_state", "actor_id", "at", "reason", "details")
    ids = insert_rows(TaskTransition, fields, rows)
    assert len(ids) == len(AWKWARD) == len(set(ids))
    stored = TaskTransition.objects.in_bulk(ids)
    for pk, (n, text) in zip(ids, enumerate(AWKWARD), strict=True):
        log = stored[pk]
        assert (log.transition, log.reason, log.actor_id) == (f"t{n}", text, None)
        assert log.details == {"text": text, "n": n, "list": [1, "\\t"]}
        assert abs(log.at - now) < dt.timedelta(microseconds=1)


def test_times_keep_their_instant_whatever_their_zone_and_naive_ones_are_refused(task, db):
    fields = ("task_id", "transition", "from_state", "to_state", "at", "reason", "details")
    shanghai = dt.timezone(dt.timedelta(hours=8))
    moments = [
        dt.datetime(2026, 11, 28, 23, 59, 59, 999999, tzinfo=shanghai),  # the previous day in UTC
        dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC),
    ]
    rows = [(task.pk, "t", "", "queued", moment, "", {}) for moment in moments * 2]  # repeated: formatted once
    ids = insert_rows(TaskTransition, fields, rows)
    stored = TaskTransition.objects.in_bulk(ids)
    assert [stored[pk].at for pk in ids] == moments * 2
    if connection.vendor == "postgresql":  # text is passed through to COPY as it is
        (pk,) = insert_rows(TaskTransition, fields, [(task.pk, "t", "", "queued", "2026-11-28T08:00:00+08:00", "", {})])
        assert TaskTransition.objects.get(pk=pk).at == dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
    if connection.vendor == "postgresql":  # SQLite goes through bulk_create, which has its own check
        with pytest.raises(ValueError, match="aware"):
            insert_rows(TaskTransition, fields, [(task.pk, "t", "", "queued", dt.datetime(2026, 11, 28), "", {})])


def test_raw_json_is_written_as_it_is_and_returning_false_writes_without_ids(task):
    fields = ("task_id", "transition", "from_state", "to_state", "at", "reason", "details")
    before = TaskTransition.objects.count()
    shared = RawJSON('{"shared":[3,2,1]}')
    assert (
        insert_rows(
            TaskTransition, fields, [(task.pk, "x", "", "queued", timezone.now(), "", shared)] * 2, returning=False
        )
        == []
    )
    assert TaskTransition.objects.count() == before + 2
    assert (
        list(TaskTransition.objects.filter(transition="x").values_list("details", flat=True))
        == [{"shared": [3, 2, 1]}] * 2
    )


def test_the_in_ids_lookup_matches_in_on_plain_and_foreign_key_fields(org, task):
    task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    log_ids = list(TaskTransition.objects.filter(task=task).values_list("pk", flat=True))
    assert set(TaskTransition.objects.filter(pk__in_ids=log_ids).values_list("pk", flat=True)) == set(log_ids)
    assert TaskTransition.objects.filter(task_id__in_ids=[task.pk]).count() == len(log_ids)
    assert TaskTransition.objects.filter(task__in_ids=[task.pk, 10**9]).count() == len(log_ids)
    assert not Task.objects.filter(pk__in_ids=[]).exists()
    assert id_array([3, 1, 2]) == "{3,1,2}"


# --- locks -------------------------------------------------------------------------------------


def test_the_lock_helpers_lock_in_ascending_id_order_and_leave_foreign_key_checks_alone(org, open_case):
    tasks = [open_case("assisted").tasks.get() for _ in range(3)]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert sql.lock_tasks([t.pk for t in reversed(tasks)] + [10**9]) == sorted(t.pk for t in tasks)
        assert sql.lock_staff([org.member2.pk, org.member.pk]) == sorted([org.member.pk, org.member2.pk])
    for query in queries.captured_queries:
        assert " ASC" in query["sql"], query["sql"]
        if connection.vendor == "postgresql":  # SQLite has no row locks: its writers queue for the database
            assert "FOR NO KEY UPDATE" in query["sql"], query["sql"]


# --- the PostgreSQL fast paths against their ORM reference --------------------------------------

fast_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fast paths are PostgreSQL's: runs in the PostgreSQL pass of .ci/run"
)


def rows_after(write) -> tuple:
    """What `write` leaves in the task and assignment tables; rolled back afterwards."""
    with transaction.atomic():
        result = write()
        state = (
            result,
            sorted(Task.objects.values_list("pk", "state", "assignee_id", "has_open_alert", "updated_at")),
            sorted(TaskAssignment.objects.values_list("pk", "task_id", "staff_id", "active", "ended_at")),
        )
        transaction.set_rollback(True)
    return state


@pytest.fixture
def queued_tasks(org, open_case):
    tasks = []
    for _ in range(4):
        task = open_case("assisted").tasks.get()
        tasks.append(task_transition(task_id=task.pk, actor=org.clerk, name="transfer"))
    Task.objects.filter(pk=tasks[0].pk).update(has_open_alert=True)
    # A stray active assignment on a queued task (the guard's case), and an ended one.
    TaskAssignment.objects.create(task=tasks[1], staff=org.member2)
    TaskAssignment.objects.create(task=tasks[2], staff=org.member, active=False, ended_at=timezone.now())
    return tasks


@fast_only
def test_assign_queued_writes_what_its_orm_reference_writes(org, queued_tasks):
    now = timezone.now()
    done = task_transition(task_id=queued_tasks[3].pk, actor=org.member, name="assign")  # no longer queued
    pairs = [(queued_tasks[0].pk, org.member.pk), (queued_tasks[1].pk, org.member2.pk), (done.pk, org.member2.pk)]
    fast = rows_after(lambda: sql._assign_queued_pg(pairs, now=now))
    assert fast[0] == 2
    assert fast == rows_after(lambda: sql._assign_queued_orm(pairs, now=now))


@fast_only
def test_end_active_assignments_ends_what_its_orm_reference_ends(org, queued_tasks):
    now = timezone.now()
    ids = [task.pk for task in queued_tasks]
    fast = rows_after(lambda: sql._end_active_assignments_pg(ids, now=now))
    assert fast[0] == 1
    assert fast == rows_after(lambda: sql._end_active_assignments_orm(ids, now=now))


@fast_only
def test_assignments_of_pairs_reads_what_its_orm_reference_reads(org, queued_tasks, items):
    task = queued_tasks[0]
    pairs = [(task.taxpayer_id, task.item_id), (task.taxpayer_id, items["approval"].pk)]
    fast = sql._assignments_of_pairs_pg(sorted(set(pairs)))
    assert len(fast) == 2
    assert fast == sql._assignments_of_pairs_orm(sorted(set(pairs)))
