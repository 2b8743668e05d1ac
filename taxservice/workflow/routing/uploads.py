"""Bulk upload of tasks by coordinators: parse, check every row, then import all or nothing.

Progress lives on the UploadBatch row. Validation saves it every few rows; the import
runs in one transaction (all or nothing), so during the import the row count comes
from the cache, which other requests can read while the transaction is open.

Every batch ends `done` or `failed` (docs/routing.md, "Every batch ends"): a run that
dies is restarted from a clean state, at most MAX_ATTEMPTS runs, and the stuck-upload
sweep (`upload_sweep`, on Celery beat) restarts or fails the batches nobody is running.
The readers are bounded: every limit is checked before the work it guards.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.catalogue.models import Item
from taxservice.errors import InvalidInput
from taxservice.org.models import Staff
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import TaskIntake
from taxservice.workflow.routing.models import UploadBatch

logger = logging.getLogger(__name__)

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
# Columns a row may have (four are used); a sheet declaring more is refused unread.
MAX_COLUMNS = 50
# The longest cell, in characters: the API's longest free text (notes).
MAX_CELL_CHARS = 4000
# An XLSX is a zip: what its parts may unpack to, all together and for the shared strings
# (which openpyxl loads whole, even in read-only mode). Checked from the zip's directory.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
# Runs of the check and import a batch gets: an interrupted run is restarted until then.
MAX_ATTEMPTS = 3
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
    """Rows as dicts with source, taxpayer, item, notes. Raises InvalidInput for an unreadable
    file, before reading past a limit: the size first, then (XLSX) what the zip declares,
    then row by row while streaming."""
    upload_refuse_large(file_size=len(content))
    name = filename.lower()
    if name.endswith(".csv"):
        return _rows_from(_csv_table(content))
    if name.endswith(".xlsx"):
        return _rows_from(_xlsx_table(content))
    raise InvalidInput(_("Upload a .csv or .xlsx file."), code="bad_file_type")


def _too_many_rows() -> InvalidInput:
    return InvalidInput(_("At most %(n)s rows per file.") % {"n": MAX_ROWS}, code="too_many_rows")


def _too_many_columns() -> InvalidInput:
    return InvalidInput(_("At most %(n)s columns per file.") % {"n": MAX_COLUMNS}, code="too_many_columns")


def _rows_from(table: Iterable[Sequence]) -> list[dict]:
    """The header, then one dict per row that is not blank; stops at the first row past MAX_ROWS."""
    header: list[str | None] | None = None
    rows: list[dict] = []
    for cells in table:
        if len(cells) > MAX_COLUMNS:
            raise _too_many_columns()
        values = [_cell(value) for value in cells]
        if not any(values):
            continue
        if header is None:
            header = [HEADERS.get(value.lower(), HEADERS.get(value)) for value in values]
            missing = [column for column in REQUIRED if column not in header]
            if missing:
                raise InvalidInput(
                    _("The first row must name the columns; missing: %(cols)s.") % {"cols": ", ".join(missing)},
                    code="missing_columns",
                )
            continue
        if len(rows) == MAX_ROWS:
            raise _too_many_rows()
        row = {"source": "", "taxpayer": "", "item": "", "notes": ""}
        for column, value in zip(header, values, strict=False):
            if column:
                row[column] = value
        rows.append(row)
    if header is None:
        raise InvalidInput(_("The file is empty."), code="empty_file")
    if not rows:
        raise InvalidInput(_("The file has a header but no rows."), code="empty_file")
    return rows


def _cell(value: object) -> str:
    text = str(value if value is not None else "")
    if len(text) > MAX_CELL_CHARS:
        raise InvalidInput(_("A cell is longer than %(n)s characters.") % {"n": MAX_CELL_CHARS}, code="field_too_long")
    if "\x00" in text:
        raise InvalidInput(_("The file contains a NUL character."), code="nul_character")
    return text.strip()


def _csv_table(content: bytes) -> Iterator[list[str]]:
    """The CSV's rows, decoded and parsed as they are read."""
    if b"\x00" in content:
        raise InvalidInput(_("The file contains a NUL character."), code="nul_character")
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    try:
        # csv's own field limit (128 KB) stops a huge field; MAX_CELL_CHARS then a long one.
        yield from csv.reader(text)
    except UnicodeDecodeError:
        raise InvalidInput(_("Save the CSV file as UTF-8."), code="bad_encoding") from None
    except csv.Error:
        raise InvalidInput(
            _("A cell is longer than %(n)s characters.") % {"n": MAX_CELL_CHARS}, code="field_too_long"
        ) from None


# <dimension ref="A1:D20"/>: the range a worksheet declares, near the top of its XML.
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Za-z0-9$:]+)\"")
DIMENSION_WINDOW = 64 * 1024


def _xlsx_refuse_declared(content: bytes) -> None:
    """Refuse an XLSX by what its zip declares, before openpyxl reads any of it: the unpacked
    size of all parts and of the shared strings, and every worksheet's declared range."""
    from openpyxl.utils.cell import range_boundaries

    bad_file = InvalidInput(_("This .xlsx file cannot be read."), code="bad_file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise bad_file from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise bad_file
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise InvalidInput(
                _("The file unpacks to more than %(n)s MB.") % {"n": MAX_UNPACKED_BYTES // (1024 * 1024)},
                code="file_too_large_unpacked",
            )
        for entry in entries:
            name = entry.filename.lower()
            if name.endswith("sharedstrings.xml") and entry.file_size > MAX_SHARED_STRINGS_BYTES:
                raise InvalidInput(
                    _("The file's text is larger than %(n)s MB.") % {"n": MAX_SHARED_STRINGS_BYTES // (1024 * 1024)},
                    code="shared_strings_too_large",
                )
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                try:
                    # A zip entry yields at most the size its directory declares.
                    with archive.open(entry) as part:
                        head = part.read(DIMENSION_WINDOW)
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
                    raise bad_file from None
                found = DIMENSION.search(head)
                if not found:
                    continue  # no declared range: the rows are counted while streaming
                try:
                    _min_col, _min_row, max_col, max_row = range_boundaries(found.group(1).decode("ascii"))
                except (ValueError, TypeError):
                    raise bad_file from None
                if max_col is not None and max_col > MAX_COLUMNS:
                    raise _too_many_columns()
                if max_row is not None and max_row > MAX_ROWS + 1:  # and the header
                    raise _too_many_rows()


def _xlsx_table(content: bytes) -> Iterator[Sequence]:
    """The first worksheet's rows, streamed (openpyxl's read-only mode), at most MAX_COLUMNS
    wide, stopping past MAX_ROWS rows, once what the zip declares passed the limits."""
    _xlsx_refuse_declared(content)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a broken file
        raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
    try:
        if not book.worksheets:
            raise InvalidInput(_("The file is empty."), code="empty_file")
        sheet = book.worksheets[0]
        # Stream what is there, not what the sheet declares (a declared range pads every row).
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for count in range(1, MAX_ROWS + 3):
            try:
                row = next(rows)
            except StopIteration:
                return
            except InvalidInput:
                raise
            except Exception:
                raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
            if count > MAX_ROWS + 1:
                raise _too_many_rows()
            yield row
    finally:
        book.close()


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
    batch is left alone, and a batch already `importing` is imported again only when its
    import is not running any more and nothing of it was committed
    (`upload_settle_interrupted`), at most MAX_ATTEMPTS runs in all. A lost database
    connection is raised for the task's retry, which restarts the batch from a clean state.
    """
    batch = UploadBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if batch.state in {UploadBatch.State.DONE, UploadBatch.State.FAILED}:
        return batch  # idempotent: a retried task leaves a finished batch alone
    if batch.state == UploadBatch.State.IMPORTING:
        # A second message for a batch some run already started importing: the task was
        # redelivered or retried because its run died, or it is a duplicate while the import runs.
        batch = upload_settle_interrupted(batch_id=batch.pk)
        if batch.state != UploadBatch.State.PENDING:
            return batch  # still running elsewhere, or failed after its last attempt
    try:
        return _check_and_import(batch)
    except (OperationalError, InterfaceError):
        # The database went away: the import's transaction did not commit. The batch keeps its
        # state; the task's retry (or the sweep) restarts it from a clean state.
        logger.warning("Upload batch %s lost its database connection; it will be restarted", batch.pk, exc_info=True)
        cache.delete(progress_key(batch.pk))
        if not connection.in_atomic_block:
            close_old_connections()
        raise
    except SoftTimeLimitExceeded:
        cache.delete(progress_key(batch.pk))
        _fail(
            batch,
            code="timed_out",
            message=_(
                "The upload took too long and was stopped; nothing was imported. Split the file and upload the parts."
            ),
        )
        return _reload(batch)
    except Exception:
        # Anything but a refused row (a bug …): the import's transaction rolled back, so
        # nothing was imported. Say so instead of leaving the batch (and its page) waiting.
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
    """Restart a batch left `importing`, unless its import is still running; or fail it after
    its last attempt.

    The import holds the batch's row lock for its whole transaction, and marks the batch
    `done` in that same transaction. So a batch that is `importing` while nobody holds the
    lock belongs to a run that stopped before its commit (its worker died, its connection
    was cut): nothing was imported. It goes back to `pending` for a clean run, unless it
    had MAX_ATTEMPTS runs already (a file that kills its worker would otherwise kill every
    next one): then it becomes `failed`, saying it was interrupted. On SQLite the
    transaction waits for a running import's database lock instead, and then finds the
    batch finished.
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
        if batch.attempts >= MAX_ATTEMPTS:
            _fail_interrupted(batch)
        else:
            logger.warning("Upload batch %s was interrupted during its import; restarting it", batch.pk)
            _move(batch, UploadBatch.State.IMPORTING, state=UploadBatch.State.PENDING, processed_rows=0)
        return batch


@dataclass(frozen=True)
class SweepResult:
    restarted: int
    failed: int
    running: int


def upload_sweep(*, stale_after: dt.timedelta) -> SweepResult:
    """Restart or fail the unfinished batches without progress for `stale_after`.

    The backstop for a lost message or a dead run: a batch `importing` whose import is not
    running (`upload_settle_interrupted`), a batch `validating` whose check stopped (its
    progress is saved every PROGRESS_EVERY rows), a batch `pending` whose message never
    came. Each is started again (a duplicate message is harmless), within its MAX_ATTEMPTS.
    """
    cutoff = timezone.now() - stale_after
    restarted = failed = running = 0
    stale = UploadBatch.objects.filter(state__in=OPEN_STATES, progress_at__lte=cutoff).order_by("pk")
    for pk, state in stale.values_list("pk", "state"):
        if state == UploadBatch.State.IMPORTING:
            state = upload_settle_interrupted(batch_id=pk).state
        elif state == UploadBatch.State.VALIDATING:
            UploadBatch.objects.filter(pk=pk, state=state).update(
                state=UploadBatch.State.PENDING, processed_rows=0, progress_at=timezone.now()
            )
            state = UploadBatch.objects.values_list("state", flat=True).get(pk=pk)
        if state == UploadBatch.State.IMPORTING:
            running += 1
        elif state == UploadBatch.State.FAILED:
            failed += 1
        elif state == UploadBatch.State.PENDING:
            UploadBatch.objects.filter(pk=pk, state=state).update(progress_at=timezone.now())
            scheduling.start_job(scheduling.PROCESS_UPLOAD, pk)
            restarted += 1
    return SweepResult(restarted=restarted, failed=failed, running=running)


def _fail_interrupted(batch: UploadBatch) -> None:
    _fail(
        batch,
        code="interrupted",
        message=_(
            "The import was interrupted %(n)s times before it finished; nothing was imported. "
            "Upload the file again, and tell the administrator if it happens again."
        )
        % {"n": batch.attempts},
    )


def _check_and_import(batch: UploadBatch) -> UploadBatch:
    from taxservice.workflow.routing.services import INTAKE_SOURCES, task_intake

    if batch.attempts >= MAX_ATTEMPTS:
        _fail_interrupted(batch)  # every run so far stopped without ending it
        return _reload(batch)
    # Two runs may check the same batch side by side (a duplicate message): harmless, they
    # find the same errors. Each step below moves the batch only from the state it expects,
    # so only one of them imports.
    if not _move(
        batch,
        UploadBatch.State.PENDING,
        UploadBatch.State.VALIDATING,
        state=UploadBatch.State.VALIDATING,
        processed_rows=0,
        attempts=batch.attempts + 1,
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
                return _reload(batch)  # restarted or settled in the instant before the lock
            # The intakes carry the batch's key: if a run committed them, never again.
            imported = TaskIntake.objects.filter(batch=str(batch.pk))
            if imported.exists():
                merged = imported.filter(merged=True).count()
                created = imported.count() - merged
            else:
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
    fields["progress_at"] = timezone.now()
    moved = UploadBatch.objects.filter(pk=batch.pk, state__in=sources).update(**fields)
    if moved:
        for name, value in fields.items():
            setattr(batch, name, value)
    return bool(moved)


def _reload(batch: UploadBatch) -> UploadBatch:
    return UploadBatch.objects.select_related("uploaded_by").get(pk=batch.pk)


def _save(batch: UploadBatch, **fields) -> UploadBatch:
    fields["progress_at"] = timezone.now()
    for name, value in fields.items():
        setattr(batch, name, value)
    UploadBatch.objects.filter(pk=batch.pk).update(**fields)
    return batch
