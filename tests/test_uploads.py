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


def test_a_redelivered_message_for_an_interrupted_import_fails_it_and_imports_nothing(org, items, taxpayer):
    # The worker died inside the import's transaction: the batch says importing, nothing was imported.
    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING)
    batch = upload_process(batch_id=batch.pk)
    assert batch.state == UploadBatch.State.FAILED
    assert [(e["row"], e["code"]) for e in batch.errors] == [(None, "interrupted")]
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.FAILED
    assert not TaskIntake.objects.exists()
    assert upload_process(batch_id=batch.pk).state == UploadBatch.State.FAILED  # and stays so


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


def test_settle_uploads_ends_the_batches_a_stopped_process_left_importing(org, items, taxpayer):
    from django.core.management import call_command

    batch = upload_start(
        actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]])
    )
    UploadBatch.objects.filter(pk=batch.pk).update(state=UploadBatch.State.IMPORTING)
    out = io.StringIO()
    call_command("settle_uploads", stdout=out)
    assert "Settled 1 interrupted upload(s); 0 still importing." in out.getvalue()
    assert UploadBatch.objects.get(pk=batch.pk).state == UploadBatch.State.FAILED
    assert not TaskIntake.objects.exists()
