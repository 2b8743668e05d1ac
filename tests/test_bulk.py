"""taxservice.bulk: the COPY writer and the array-bound id lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from taxservice.bulk import RawJSON, id_array, insert_rows
from taxservice.workflow.cases.models import Task, TaskTransition
from taxservice.workflow.cases.services import task_transition

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
    assert insert_rows(TaskTransition, fields, [(task.pk, "x", "", "queued", timezone.now(), "", shared)] * 2,
                       returning=False) == []
    assert TaskTransition.objects.count() == before + 2
    assert list(TaskTransition.objects.filter(transition="x").values_list("details", flat=True)) == [
        {"shared": [3, 2, 1]}
    ] * 2


def test_the_in_ids_lookup_matches_in_on_plain_and_foreign_key_fields(org, task):
    task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    log_ids = list(TaskTransition.objects.filter(task=task).values_list("pk", flat=True))
    assert set(TaskTransition.objects.filter(pk__in_ids=log_ids).values_list("pk", flat=True)) == set(log_ids)
    assert TaskTransition.objects.filter(task_id__in_ids=[task.pk]).count() == len(log_ids)
    assert TaskTransition.objects.filter(task__in_ids=[task.pk, 10**9]).count() == len(log_ids)
    assert not Task.objects.filter(pk__in_ids=[]).exists()
    assert id_array([3, 1, 2]) == "{3,1,2}"
