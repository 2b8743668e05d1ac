"""Bulk upload of tasks by coordinators: parse, check every row, then import all or nothing.

Progress lives on the UploadBatch row. Validation saves it every few rows; the import
runs in one transaction (all or nothing), so during the import the row count comes
from the cache, which other requests can read while the transaction is open.
"""

from __future__ import annotations

import csv
import io

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import scheduling
from taxservice.catalogue.models import Item
from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.org.models import Role, Staff
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.routing.models import UploadBatch

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
PROGRESS_EVERY = 50
# Column headers accepted, English or Chinese, mapped to the intake fields.
HEADERS = {
    "source": "source", "来源": "source", "业务条线": "source",
    "taxpayer": "taxpayer", "credit_code": "taxpayer", "统一社会信用代码": "taxpayer", "纳税人识别号": "taxpayer",
    "item": "item", "item_code": "item", "事项编码": "item",
    "notes": "notes", "备注": "notes",
}
REQUIRED = ("source", "taxpayer", "item")


def parse_rows(*, filename: str, content: bytes) -> list[dict]:
    """Rows as dicts with source, taxpayer, item, notes. Raises InvalidInput for an unreadable file."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 5 MB."), code="file_too_large")
    name = filename.lower()
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("Save the CSV file as UTF-8."), code="bad_encoding") from None
        table = list(csv.reader(io.StringIO(text)))
    elif name.endswith(".xlsx"):
        table = _xlsx_table(content)
    else:
        raise InvalidInput(_("Upload a .csv or .xlsx file."), code="bad_file_type")
    table = [row for row in table if any(str(cell or "").strip() for cell in row)]
    if not table:
        raise InvalidInput(_("The file is empty."), code="empty_file")
    header = [HEADERS.get(str(cell or "").strip().lower(), HEADERS.get(str(cell or "").strip())) for cell in table[0]]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InvalidInput(
            _("The first row must name the columns; missing: %(cols)s.") % {"cols": ", ".join(missing)},
            code="missing_columns",
        )
    rows = []
    for cells in table[1:]:
        row = {"source": "", "taxpayer": "", "item": "", "notes": ""}
        for column, cell in zip(header, cells, strict=False):
            if column:
                row[column] = str(cell if cell is not None else "").strip()
        rows.append(row)
    if not rows:
        raise InvalidInput(_("The file has a header but no rows."), code="empty_file")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(_("At most %(n)s rows per file.") % {"n": MAX_ROWS}, code="too_many_rows")
    return rows


def _xlsx_table(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def upload_start(*, actor: Staff, filename: str, content: bytes) -> UploadBatch:
    """Parse the file and store a batch for `upload_process`. Nothing is imported yet."""
    if not actor.has_role(Role.COORDINATOR, Role.ADMIN):
        raise ActionForbidden(_("Only coordinators upload tasks."))
    rows = parse_rows(filename=filename, content=content)
    batch = UploadBatch.objects.create(uploaded_by=actor, filename=filename[:200], rows=rows, total_rows=len(rows))
    scheduling.start_job(scheduling.PROCESS_UPLOAD, batch.pk)
    return batch


def progress_key(batch_id: int) -> str:
    return f"upload-progress:{batch_id}"


def upload_progress(batch: UploadBatch) -> tuple[int, int]:
    """(processed, total) for the progress bar, the import's live count when it is running."""
    if batch.state == UploadBatch.State.IMPORTING:
        return cache.get(progress_key(batch.pk), batch.processed_rows), batch.total_rows
    return batch.processed_rows, batch.total_rows


def upload_process(*, batch_id: int) -> UploadBatch:
    """Check every row; on any error import nothing, else import every row in one transaction."""
    from taxservice.workflow.routing.services import INTAKE_SOURCES, task_intake

    batch = UploadBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if batch.state not in {UploadBatch.State.PENDING, UploadBatch.State.VALIDATING}:
        return batch  # idempotent: a retried task leaves a finished batch alone
    _save(batch, state=UploadBatch.State.VALIDATING, processed_rows=0)
    known_taxpayers = set(
        Taxpayer.objects.filter(credit_code__in={row["taxpayer"] for row in batch.rows}).values_list("credit_code", flat=True)
    )
    known_items = set(
        Item.objects.filter(code__in={row["item"] for row in batch.rows}, active=True).values_list("code", flat=True)
    )
    errors = []
    for number, row in enumerate(batch.rows, start=2):  # row 1 is the header
        if row["source"] not in INTAKE_SOURCES:
            errors.append({"row": number, "field": "source", "message": _("Unknown source line “%(v)s”.") % {"v": row["source"]}})
        if row["taxpayer"] not in known_taxpayers:
            errors.append({"row": number, "field": "taxpayer", "message": _("No taxpayer “%(v)s”.") % {"v": row["taxpayer"]}})
        if row["item"] not in known_items:
            errors.append({"row": number, "field": "item", "message": _("Unknown item “%(v)s”.") % {"v": row["item"]}})
        if number % PROGRESS_EVERY == 0:
            _save(batch, processed_rows=number - 1)
    if errors:
        return _save(batch, state=UploadBatch.State.FAILED, errors=errors, processed_rows=batch.total_rows,
                     finished_at=timezone.now())
    _save(batch, state=UploadBatch.State.IMPORTING, processed_rows=0)
    created = merged = 0
    try:
        with transaction.atomic():
            for index, row in enumerate(batch.rows, start=1):
                _task, was_merged = task_intake(
                    actor=batch.uploaded_by, source=row["source"], taxpayer=row["taxpayer"], item=row["item"],
                    notes=row["notes"], batch=str(batch.pk),
                )
                merged += was_merged
                created += not was_merged
                if index % PROGRESS_EVERY == 0:
                    cache.set(progress_key(batch.pk), index, 3600)
    except InvalidInput as exc:
        # A row went bad between the check and the import (e.g. an item was deactivated).
        return _save(batch, state=UploadBatch.State.FAILED, finished_at=timezone.now(),
                     errors=[{"row": None, "field": "", "message": exc.detail}])
    cache.delete(progress_key(batch.pk))
    return _save(batch, state=UploadBatch.State.DONE, processed_rows=batch.total_rows, created_count=created,
                 merged_count=merged, rows=[], finished_at=timezone.now())


def _save(batch: UploadBatch, **fields) -> UploadBatch:  # noqa: ANN003
    for name, value in fields.items():
        setattr(batch, name, value)
    UploadBatch.objects.filter(pk=batch.pk).update(**fields)
    return batch
