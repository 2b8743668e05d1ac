"""Bulk upload: every row checked, all or nothing, progress and a per-row report."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.workflow.cases.models import Task, TaskIntake
from taxservice.workflow.routing.models import UploadBatch
from taxservice.workflow.routing.uploads import parse_rows, upload_process, upload_start


def csv_bytes(rows, header="source,taxpayer,item,notes"):
    return ("\ufeff" + header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode("utf-8")


def test_a_clean_file_imports_every_row_and_merges_duplicates(org, items, taxpayer):
    content = csv_bytes(
        [
            ["risk", taxpayer.credit_code, "A001", "风险提示"],
            ["business", taxpayer.credit_code, "A001", ""],
            ["data_governance", taxpayer.credit_code, "J001", "数据疑点"],
        ]
    )
    batch = upload_start(actor=org.coordinator, filename="tasks.csv", content=content)
    batch = upload_process(batch_id=batch.pk)
    assert (batch.state, batch.created_count, batch.merged_count, batch.percent) == ("done", 2, 1, 100)
    assert Task.objects.count() == 2
    assert TaskIntake.objects.filter(batch=str(batch.pk)).count() == 3


def test_any_bad_row_rejects_the_whole_file_with_a_report(org, items, taxpayer):
    content = csv_bytes(
        [
            ["risk", taxpayer.credit_code, "A001", ""],
            ["fax", taxpayer.credit_code, "NOPE", ""],
            ["risk", "91330100XXXXXXXXXX", "A001", ""],
        ]
    )
    batch = upload_process(batch_id=upload_start(actor=org.coordinator, filename="t.csv", content=content).pk)
    assert batch.state == UploadBatch.State.FAILED
    assert [(e["row"], e["field"]) for e in batch.errors] == [(3, "source"), (3, "item"), (4, "taxpayer")]
    assert not Task.objects.exists()


def test_chinese_headers_and_xlsx(org, items, taxpayer):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["来源", "统一社会信用代码", "事项编码", "备注"])
    sheet.append(["grid", taxpayer.credit_code, "A001", "网格上报"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = parse_rows(filename="任务.xlsx", content=buffer.getvalue())
    assert rows == [{"source": "grid", "taxpayer": taxpayer.credit_code, "item": "A001", "notes": "网格上报"}]


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("tasks.txt", b"x", "bad_file_type"),
        ("tasks.csv", "来源,备注\nrisk,x\n".encode(), "missing_columns"),
        ("tasks.csv", b"source,taxpayer,item\n", "empty_file"),
        ("tasks.csv", "source,taxpayer,item\nrisk,x,y\n".encode("gbk") + "风险".encode("gbk"), "bad_encoding"),
        ("tasks.xlsx", b"not a workbook", "bad_file"),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_stored(org, filename, content, code):
    with pytest.raises(InvalidInput) as error:
        upload_start(actor=org.coordinator, filename=filename, content=content)
    assert error.value.code == code
    assert not UploadBatch.objects.exists()


def test_only_coordinators_upload(org, taxpayer):
    with pytest.raises(ActionForbidden):
        upload_start(
            actor=org.member, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
        )


def test_processing_twice_does_not_import_twice(org, items, taxpayer):
    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )
    upload_process(batch_id=batch.pk)
    upload_process(batch_id=batch.pk)
    assert TaskIntake.objects.count() == 1


def _break_the_import_on_row(monkeypatch, number, error):
    """task_intake raises `error` on the given row of the import (after the rows were checked)."""
    from taxservice.workflow.routing import services

    real = services.task_intake
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == number:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(services, "task_intake", flaky)


def test_an_unexpected_error_in_the_import_fails_the_batch_with_a_reason_and_imports_nothing(
    org, items, taxpayer, monkeypatch
):
    content = csv_bytes([["risk", taxpayer.credit_code, "A001", ""], ["grid", taxpayer.credit_code, "J001", ""]])
    batch = upload_start(actor=org.coordinator, filename="t.csv", content=content)
    _break_the_import_on_row(monkeypatch, 2, RuntimeError("disk on fire"))
    with translation.override("en"):
        batch = upload_process(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.state == UploadBatch.State.FAILED and batch.finished_at is not None
    assert [(e["row"], e["code"]) for e in batch.errors] == [(None, "import_failed")]
    assert "nothing was imported" in batch.errors[0]["message"]
    assert "disk on fire" not in batch.errors[0]["message"]  # the details go to the log, not to the page
    assert not Task.objects.exists() and not TaskIntake.objects.exists()


def test_an_unexpected_error_while_checking_fails_the_batch_too(org, items, taxpayer, monkeypatch):
    from taxservice.workflow.routing import uploads

    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )

    def broken(*args, **kwargs):
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(uploads.Item.objects, "filter", broken)
    batch = upload_process(batch_id=batch.pk)
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.FAILED
    assert not TaskIntake.objects.exists()


def _one_row_batch(org, taxpayer, state=None):
    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )
    if state:
        UploadBatch.objects.filter(pk=batch.pk).update(state=state, attempts=1)
    return batch


def _stored_batch(org, taxpayer, rows):
    """Stored as upload_start stores it, without starting the job (here it would run at once)."""
    rows = parse_rows(filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, item, ""] for item in rows]))
    return UploadBatch.objects.create(uploaded_by=org.coordinator, filename="t.csv", rows=rows, total_rows=len(rows))


def test_a_redelivered_message_for_an_interrupted_import_restarts_it_and_imports_once(org, items, taxpayer):
    # The worker died inside the import's transaction: the batch says importing, nothing was imported.
    batch = _one_row_batch(org, taxpayer, state=UploadBatch.State.IMPORTING)
    batch = upload_process(batch_id=batch.pk)
    assert (batch.state, batch.created_count, batch.attempts) == (UploadBatch.State.DONE, 1, 2)
    assert TaskIntake.objects.count() == 1
    assert upload_process(batch_id=batch.pk).state == UploadBatch.State.DONE  # and stays so
    assert TaskIntake.objects.count() == 1


def test_an_import_interrupted_on_every_attempt_fails_with_the_reason(org, items, taxpayer):
    from taxservice.workflow.routing.uploads import MAX_ATTEMPTS

    batch = _one_row_batch(org, taxpayer)
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING, attempts=MAX_ATTEMPTS)
    with translation.override("en"):
        batch = upload_process(batch_id=batch.pk)
    assert batch.state == UploadBatch.State.FAILED and batch.finished_at is not None
    assert [(e["row"], e["code"]) for e in batch.errors] == [(None, "interrupted")]
    assert f"interrupted {MAX_ATTEMPTS} times" in batch.errors[0]["message"]
    assert not TaskIntake.objects.exists()


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside the import: nothing after it runs."""


def test_a_task_redelivered_after_its_worker_died_mid_import_imports_every_row_once(org, items, taxpayer, monkeypatch):
    from taxservice.workflow.routing.tasks import process_upload

    batch = _stored_batch(org, taxpayer, ["A001", "J001", "A001"])
    _break_the_import_on_row(monkeypatch, 2, WorkerKilled())
    with pytest.raises(WorkerKilled):
        process_upload.apply(args=(batch.pk,))
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.IMPORTING  # stranded, as in issue #14
    assert not TaskIntake.objects.exists()  # its transaction rolled back
    monkeypatch.undo()
    assert process_upload.apply(args=(batch.pk,)).get() == UploadBatch.State.DONE  # the redelivery
    assert TaskIntake.objects.filter(batch=str(batch.pk)).count() == 3
    assert process_upload.apply(args=(batch.pk,)).get() == UploadBatch.State.DONE  # a duplicate
    assert TaskIntake.objects.filter(batch=str(batch.pk)).count() == 3


def test_a_lost_database_connection_is_retried_and_the_retry_imports_once(org, items, taxpayer, monkeypatch):
    from django.db import OperationalError

    from taxservice.workflow.routing.tasks import process_upload

    batch = _stored_batch(org, taxpayer, ["A001", "J001"])
    _break_the_import_on_row(monkeypatch, 2, OperationalError("terminating connection due to administrator command"))
    # throw=False: the eager run retries as a worker would (settings propagate eager errors).
    assert process_upload.apply(args=(batch.pk,), throw=False).get() == UploadBatch.State.DONE
    batch.refresh_from_db()
    assert (batch.created_count, batch.attempts) == (2, 2)
    assert TaskIntake.objects.filter(batch=str(batch.pk)).count() == 2


def test_intakes_a_run_committed_are_never_created_again(org, items, taxpayer):
    batch = _stored_batch(org, taxpayer, ["A001"])
    upload_process(batch_id=batch.pk)
    assert TaskIntake.objects.count() == 1
    # As if the batch's final save had been lost: the intakes' batch key still says imported.
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING, rows=batch.rows)
    batch = upload_process(batch_id=batch.pk)
    assert (batch.state, batch.created_count) == (UploadBatch.State.DONE, 1)
    assert TaskIntake.objects.count() == 1


def test_the_process_upload_task_ends_a_broken_import_as_failed(org, items, taxpayer, monkeypatch):
    from taxservice.workflow.routing.tasks import process_upload

    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )
    _break_the_import_on_row(monkeypatch, 1, KeyError("surprise"))
    assert process_upload.apply(args=(batch.pk,)).get() == UploadBatch.State.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_message_redelivered_while_the_import_runs_does_not_import_again(org, items, taxpayer, monkeypatch):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("a second session probing the row lock: runs in the PostgreSQL pass of .ci/run")
    from taxservice.workflow.routing import services

    # Stored as upload_start stores it, without starting the job (here it would run at once).
    content = csv_bytes([["risk", taxpayer.credit_code, "A001", ""], ["grid", taxpayer.credit_code, "J001", ""]])
    rows = parse_rows(filename="t.csv", content=content)
    batch = UploadBatch.objects.create(uploaded_by=org.coordinator, filename="t.csv", rows=rows, total_rows=len(rows))

    real = services.task_intake
    seen = {}

    def redeliver_meanwhile():
        try:
            seen["state"] = upload_process(batch_id=batch.pk).state
        finally:
            connections.close_all()

    def intake_with_a_duplicate_message(**kwargs):
        if not seen:
            other = threading.Thread(target=redeliver_meanwhile)
            other.start()
            other.join(timeout=30)
        return real(**kwargs)

    monkeypatch.setattr(services, "task_intake", intake_with_a_duplicate_message)
    batch = upload_process(batch_id=batch.pk)
    assert seen == {"state": UploadBatch.State.IMPORTING}  # the duplicate saw it running and left it alone
    assert (batch.state, batch.created_count) == (UploadBatch.State.DONE, 2)
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.DONE
    assert TaskIntake.objects.count() == 2


def test_settle_uploads_restarts_the_batches_a_stopped_process_left_importing(
    org, items, taxpayer, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    batch = _one_row_batch(org, taxpayer, state=UploadBatch.State.IMPORTING)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle_uploads", stdout=out)
    assert "Restarted 1 interrupted upload(s); failed 0; 0 still importing." in out.getvalue()
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.DONE
    assert TaskIntake.objects.count() == 1


def _age(batch, minutes):
    from datetime import timedelta

    from django.utils import timezone

    UploadBatch.objects.filter(pk=batch.pk).update(progress_at=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.parametrize(
    "state", [UploadBatch.State.PENDING, UploadBatch.State.VALIDATING, UploadBatch.State.IMPORTING]
)
def test_the_sweep_restarts_a_batch_stuck_without_progress(
    org, items, taxpayer, state, django_capture_on_commit_callbacks
):
    from taxservice.workflow.routing.tasks import upload_sweep

    batch = _stored_batch(org, taxpayer, ["A001", "J001"])
    UploadBatch.objects.filter(pk=batch.pk).update(state=state)
    _age(batch, 11)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload_sweep.apply().get() == {"restarted": 1, "failed": 0, "running": 0}
    batch.refresh_from_db()
    assert (batch.state, batch.created_count) == (UploadBatch.State.DONE, 2)
    assert TaskIntake.objects.count() == 2


def test_the_sweep_leaves_a_batch_with_recent_progress_alone(org, items, taxpayer):
    from taxservice.workflow.routing.tasks import upload_sweep

    batch = _stored_batch(org, taxpayer, ["A001"])
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING)
    _age(batch, 9)
    assert upload_sweep.apply().get() == {"restarted": 0, "failed": 0, "running": 0}
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.IMPORTING


def test_the_sweep_fails_a_stuck_batch_after_its_last_attempt(org, items, taxpayer):
    from taxservice.workflow.routing.tasks import upload_sweep
    from taxservice.workflow.routing.uploads import MAX_ATTEMPTS

    batch = _stored_batch(org, taxpayer, ["A001"])
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING, attempts=MAX_ATTEMPTS)
    _age(batch, 60)
    assert upload_sweep.apply().get() == {"restarted": 0, "failed": 1, "running": 0}
    batch.refresh_from_db()
    assert batch.state == UploadBatch.State.FAILED and batch.errors[0]["code"] == "interrupted"
    assert not TaskIntake.objects.exists()
