"""Bulk upload of tasks by coordinators: parse, check every row, then import all or nothing.

Progress lives on the UploadBatch row. Validation saves it every few rows; the import
runs in one transaction (all or nothing), so during the import the row count comes
from the cache, which other requests can read while the transaction is open.
"""

from __future__ import annotations

import csv
import io
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.catalogue.models import Item
from taxservice.errors import InvalidInput
from taxservice.org.models import Staff
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.routing.models import UploadBatch

logger = logging.getLogger(__name__)

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
PROGRESS_EVERY = 50
# Column headers accepted, English or Chinese, mapped to the intake fields.
HEADERS = {
    "source": "source",
    "来源": "source",
    "业务条线": "source",
    "taxpayer": "taxpayer",
    "credit_code": "taxpayer",
    "统一社会信用代码": "taxpayer",
    "纳税人识别号": "taxpayer",
    "item": "item",
    "item_code": "item",
    "事项编码": "item",
    "notes": "notes",
    "备注": "notes",
}
REQUIRED = ("source", "taxpayer", "item")


# What a multipart body may carry besides the file: boundaries, part headers, a CSRF token.
FORM_OVERHEAD = 64 * 1024


class FileTooLarge(InvalidInput):
    code = "file_too_large"
    status = 413  # Payload Too Large


def upload_refuse_large(*, content_length: str | int | None = None, file_size: int | None = None) -> None:
    """Raise FileTooLarge if the request's Content-Length or the file's size says it is over
    MAX_BYTES. Call it before reading the body or the file: a large upload is then refused
    without being read."""
    try:
        declared = int(content_length) if content_length not in (None, "") else None
    except (TypeError, ValueError):
        declared = None  # not ours to judge: the server refuses a malformed header
    if (declared is not None and declared > MAX_BYTES + FORM_OVERHEAD) or (
        file_size is not None and file_size > MAX_BYTES
    ):
        raise FileTooLarge(_("The file is larger than 5 MB."))


def parse_rows(*, filename: str, content: bytes) -> list[dict]:
    """Rows as dicts with source, taxpayer, item, notes. Raises InvalidInput for an unreadable file."""
    upload_refuse_large(file_size=len(content))
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
    except Exception:  # openpyxl raises many types for a broken file
        raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def upload_start(*, actor: Staff, filename: str, content: bytes) -> UploadBatch:
    """Parse the file and store a batch for `upload_process`. Nothing is imported yet."""
    access.require(access.can_upload_tasks, actor)
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


OPEN_STATES = (UploadBatch.State.PENDING, UploadBatch.State.VALIDATING, UploadBatch.State.IMPORTING)


def upload_process(*, batch_id: int) -> UploadBatch:
    """Check every row; on any error import nothing, else import every row in one transaction.

    Every run ends the batch in a final state: `done`, or `failed` with a reason people can
    read (a per-row report, or one line for the whole file). Safe to run twice: a finished
    batch is left alone, and a batch already `importing` is never imported a second time
    (see `upload_settle_interrupted`).
    """
    batch = UploadBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if batch.state in {UploadBatch.State.DONE, UploadBatch.State.FAILED}:
        return batch  # idempotent: a retried task leaves a finished batch alone
    if batch.state == UploadBatch.State.IMPORTING:
        # A second message for a batch some run already started importing: the task was
        # redelivered because its worker died, or it is a duplicate while the import runs.
        return upload_settle_interrupted(batch_id=batch.pk)
    try:
        return _check_and_import(batch)
    except Exception:
        # Anything but a refused row (a bug, a lost database connection …): the import's
        # transaction rolled back, so nothing was imported. Say so instead of leaving the
        # batch (and its page) waiting.
        logger.exception("Upload batch %s failed", batch.pk)
        cache.delete(progress_key(batch.pk))
        _fail(
            batch,
            code="import_failed",
            message=_(
                "The upload stopped on an unexpected error; nothing was imported. Upload the file again, "
                "and tell the administrator if it happens again."
            ),
        )
        return _reload(batch)


def upload_settle_interrupted(*, batch_id: int) -> UploadBatch:
    """Settle a batch left `importing`, unless its import is still running.

    The import holds the batch's row lock for its whole transaction, and marks the batch
    `done` in that same transaction. So a batch that is `importing` while nobody holds the
    lock belongs to a run that stopped before its commit (its worker died): nothing was
    imported, and the batch becomes `failed`, saying it was interrupted. It is not imported
    again by itself: a file whose import killed a worker would otherwise kill the next one
    too. On SQLite the transaction waits for a running import's database lock instead, and
    then finds the batch finished.
    """
    with transaction.atomic():
        batch = (
            UploadBatch.objects.select_for_update(no_key=True, skip_locked=True)
            .select_related("uploaded_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None:  # locked: the import is running in another worker
            return UploadBatch.objects.select_related("uploaded_by").get(pk=batch_id)
        if batch.state != UploadBatch.State.IMPORTING:
            return batch
        cache.delete(progress_key(batch.pk))
        _fail(
            batch,
            code="interrupted",
            message=_("The import was interrupted before it finished; nothing was imported. Upload the file again."),
        )
        return batch


def _check_and_import(batch: UploadBatch) -> UploadBatch:
    from taxservice.workflow.routing.services import INTAKE_SOURCES, task_intake

    # Two runs may check the same batch side by side (a duplicate message): harmless, they
    # find the same errors. Each step below moves the batch only from the state it expects,
    # so only one of them imports.
    if not _move(
        batch,
        UploadBatch.State.PENDING,
        UploadBatch.State.VALIDATING,
        state=UploadBatch.State.VALIDATING,
        processed_rows=0,
    ):
        return _reload(batch)
    known_taxpayers = set(
        Taxpayer.objects.filter(credit_code__in={row["taxpayer"] for row in batch.rows}).values_list(
            "credit_code", flat=True
        )
    )
    known_items = set(
        Item.objects.filter(code__in={row["item"] for row in batch.rows}, active=True).values_list("code", flat=True)
    )
    errors = []
    for number, row in enumerate(batch.rows, start=2):  # row 1 is the header
        if row["source"] not in INTAKE_SOURCES:
            errors.append(
                {"row": number, "field": "source", "message": _("Unknown source line “%(v)s”.") % {"v": row["source"]}}
            )
        if row["taxpayer"] not in known_taxpayers:
            errors.append(
                {"row": number, "field": "taxpayer", "message": _("No taxpayer “%(v)s”.") % {"v": row["taxpayer"]}}
            )
        if row["item"] not in known_items:
            errors.append({"row": number, "field": "item", "message": _("Unknown item “%(v)s”.") % {"v": row["item"]}})
        if number % PROGRESS_EVERY == 0:
            _save(batch, processed_rows=number - 1)
    if errors:
        _move(
            batch,
            UploadBatch.State.VALIDATING,
            state=UploadBatch.State.FAILED,
            errors=errors,
            processed_rows=batch.total_rows,
            finished_at=timezone.now(),
        )
        return _reload(batch)
    if not _move(batch, UploadBatch.State.VALIDATING, state=UploadBatch.State.IMPORTING, processed_rows=0):
        return _reload(batch)
    created = merged = 0
    try:
        with transaction.atomic():
            # Held until the commit: it tells a redelivered message that this import is alive.
            locked = UploadBatch.objects.select_for_update(no_key=True).filter(
                pk=batch.pk, state=UploadBatch.State.IMPORTING
            )
            if not list(locked.values_list("pk", flat=True)):
                return _reload(batch)  # settled as interrupted in the instant before the lock
            for index, row in enumerate(batch.rows, start=1):
                _task, was_merged = task_intake(
                    actor=batch.uploaded_by,
                    source=row["source"],
                    taxpayer=row["taxpayer"],
                    item=row["item"],
                    notes=row["notes"],
                    batch=str(batch.pk),
                )
                merged += was_merged
                created += not was_merged
                if index % PROGRESS_EVERY == 0:
                    cache.set(progress_key(batch.pk), index, 3600)
            # In the import's own transaction: `importing` after it ends means nothing was imported.
            _save(
                batch,
                state=UploadBatch.State.DONE,
                processed_rows=batch.total_rows,
                created_count=created,
                merged_count=merged,
                rows=[],
                finished_at=timezone.now(),
            )
    except InvalidInput as exc:
        # A row went bad between the check and the import (e.g. an item was deactivated).
        cache.delete(progress_key(batch.pk))
        _fail(batch, code=exc.code, message=exc.detail)
        return batch
    cache.delete(progress_key(batch.pk))
    return batch


def _fail(batch: UploadBatch, *, code: str, message: str) -> None:
    """End a batch that is not finished as `failed`, with one line for the whole file."""
    error = {"row": None, "field": "", "code": code, "message": str(message)}
    _move(batch, *OPEN_STATES, state=UploadBatch.State.FAILED, errors=[error], finished_at=timezone.now())


def _move(batch: UploadBatch, *sources: str, **fields) -> bool:
    """Save the fields only if the batch is still in one of `sources`; True if it was."""
    moved = UploadBatch.objects.filter(pk=batch.pk, state__in=sources).update(**fields)
    if moved:
        for name, value in fields.items():
            setattr(batch, name, value)
    return bool(moved)


def _reload(batch: UploadBatch) -> UploadBatch:
    return UploadBatch.objects.select_related("uploaded_by").get(pk=batch.pk)


def _save(batch: UploadBatch, **fields) -> UploadBatch:
    for name, value in fields.items():
        setattr(batch, name, value)
    UploadBatch.objects.filter(pk=batch.pk).update(**fields)
    return batch
