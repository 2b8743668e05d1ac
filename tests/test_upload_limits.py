"""Bounded readers for bulk uploads (issue #14, finding 4): hostile files are refused with a
400 and a code, before openpyxl reads them and before any limit's work is done."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from taxservice.errors import InvalidInput
from taxservice.workflow.routing import uploads
from taxservice.workflow.routing.models import UploadBatch
from taxservice.workflow.routing.uploads import parse_rows


def workbook(rows=(("source", "taxpayer", "item", "notes"), ("risk", "X", "A001", ""))) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite(content: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The XLSX with some parts replaced (None: the part removed) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename in changes:
                if changes[entry.filename] is not None:
                    target.writestr(entry.filename, changes[entry.filename])
            else:
                target.writestr(entry.filename, source.read(entry.filename))
        for name, data in changes.items():
            if name not in source.namelist() and data is not None:
                target.writestr(name, data)
    return out.getvalue()


def with_dimension(content: bytes, ref: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
    sheet, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), sheet)
    assert n == 1
    return rewrite(content, {"xl/worksheets/sheet1.xml": sheet})


@pytest.fixture
def openpyxl_must_not_load(monkeypatch):
    """The refusal happens before openpyxl reads the workbook."""
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def refused(filename: str, content: bytes) -> str:
    with pytest.raises(InvalidInput) as error:
        parse_rows(filename=filename, content=content)
    return error.value.code


def test_a_2_kb_xlsx_declaring_a1_xfd16000_is_refused_unread(openpyxl_must_not_load):
    content = with_dimension(workbook(), "A1:XFD16000")
    assert len(content) < 8 * 1024
    assert refused("t.xlsx", content) == "too_many_columns"


def test_a_sheet_declaring_more_rows_than_the_limit_is_refused_unread(openpyxl_must_not_load):
    assert refused("t.xlsx", with_dimension(workbook(), f"A1:D{uploads.MAX_ROWS + 2}")) == "too_many_rows"


def test_a_small_file_with_one_huge_shared_string_is_refused_unread(openpyxl_must_not_load):
    huge = b"A" * (uploads.MAX_SHARED_STRINGS_BYTES + 1)
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + huge + b"</t></si></sst>"
    )
    content = rewrite(workbook(), {"xl/sharedStrings.xml": strings})
    assert len(content) < 200 * 1024
    assert refused("t.xlsx", content) == "shared_strings_too_large"


def test_a_zip_bomb_is_refused_by_its_declared_unpacked_size(openpyxl_must_not_load, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNPACKED_BYTES", 1024 * 1024)
    content = rewrite(workbook(), {"xl/media/padding.bin": b"\0" * (2 * 1024 * 1024)})
    assert len(content) < 64 * 1024
    assert refused("t.xlsx", content) == "file_too_large_unpacked"


def test_a_sheet_without_a_declared_range_is_streamed_and_stops_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ROWS", 3)
    header = ("source", "taxpayer", "item")
    ok = workbook([header] + [("risk", "X", "A001")] * 3)
    assert len(parse_rows(filename="t.xlsx", content=rewrite_without_dimension(ok))) == 3
    too_many = workbook([header] + [("risk", "X", "A001")] * 4)
    assert refused("t.xlsx", rewrite_without_dimension(too_many)) == "too_many_rows"


def rewrite_without_dimension(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
    return rewrite(content, {"xl/worksheets/sheet1.xml": re.sub(rb"<dimension [^>]*/>", b"", sheet)})


def test_a_declared_range_smaller_than_the_data_does_not_drop_rows():
    header = ("source", "taxpayer", "item")
    content = with_dimension(workbook([header] + [("risk", "X", "A001")] * 5), "A1:C2")
    assert len(parse_rows(filename="t.xlsx", content=content)) == 5


def test_the_csv_row_limit_is_checked_before_the_rows_past_it_are_read(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ROWS", 2)
    seen = []
    real = uploads._cell

    def counting(value):
        seen.append(value)
        return real(value)

    monkeypatch.setattr(uploads, "_cell", counting)
    content = ("source,taxpayer,item\n" + "risk,X,A001\n" * 1000).encode()
    assert refused("t.csv", content) == "too_many_rows"
    assert len(seen) < 20  # stopped at the third row, not after all thousand


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"source,taxpayer,item,notes\nrisk,X,A001," + b"x" * 200 * 1024 + b"\n", "field_too_long"),
        (b"source,taxpayer,item,notes\nrisk,X,A001," + b"x" * (uploads.MAX_CELL_CHARS + 1) + b"\n", "field_too_long"),
        (b"source,taxpayer,item,notes\nrisk,X,A\x00001,\n", "nul_character"),
        (("source," * (uploads.MAX_COLUMNS + 1) + "\n").encode(), "too_many_columns"),
    ],
    ids=["200-kb-field", "long-cell", "nul", "wide"],
)
def test_hostile_csv_files_answer_400_with_a_code(api, org, content, code):
    response = api(org.coordinator).post(
        "/api/v1/hub/uploads/", {"file": SimpleUploadedFile("t.csv", content)}, format="multipart"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == code
    assert not UploadBatch.objects.exists()


def test_a_hostile_xlsx_answers_400_with_a_code_through_the_api(api, org, openpyxl_must_not_load):
    content = with_dimension(workbook(), "A1:XFD16000")
    response = api(org.coordinator).post(
        "/api/v1/hub/uploads/", {"file": SimpleUploadedFile("t.xlsx", content)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_columns"
    assert not UploadBatch.objects.exists()
