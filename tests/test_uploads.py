"""Bulk upload: every row checked, all or nothing, progress and a per-row report."""

from __future__ import annotations

import io

import pytest

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.workflow.cases.models import Task, TaskIntake
from taxservice.workflow.routing.models import UploadBatch
from taxservice.workflow.routing.uploads import parse_rows, upload_process, upload_start


def csv_bytes(rows, header="source,taxpayer,item,notes"):
    return ("\ufeff" + header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode("utf-8")


def test_a_clean_file_imports_every_row_and_merges_duplicates(org, items, taxpayer):
    content = csv_bytes([["risk", taxpayer.credit_code, "A001", "风险提示"], ["business", taxpayer.credit_code, "A001", ""],
                         ["data_governance", taxpayer.credit_code, "J001", "数据疑点"]])
    batch = upload_start(actor=org.coordinator, filename="tasks.csv", content=content)
    batch = upload_process(batch_id=batch.pk)
    assert (batch.state, batch.created_count, batch.merged_count, batch.percent) == ("done", 2, 1, 100)
    assert Task.objects.count() == 2
    assert TaskIntake.objects.filter(batch=str(batch.pk)).count() == 3


def test_any_bad_row_rejects_the_whole_file_with_a_report(org, items, taxpayer):
    content = csv_bytes([["risk", taxpayer.credit_code, "A001", ""], ["fax", taxpayer.credit_code, "NOPE", ""],
                         ["risk", "91330100XXXXXXXXXX", "A001", ""]])
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
        upload_start(actor=org.member, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]]))


def test_processing_twice_does_not_import_twice(org, items, taxpayer):
    batch = upload_start(actor=org.coordinator, filename="t.csv", content=csv_bytes([["risk", taxpayer.credit_code, "A001", ""]]))
    upload_process(batch_id=batch.pk)
    upload_process(batch_id=batch.pk)
    assert TaskIntake.objects.count() == 1
