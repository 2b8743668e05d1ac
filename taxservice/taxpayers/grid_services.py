"""Writes of a taxpayer's grid (网格): by hand, by the grid rules, by import.

Every change of `Taxpayer.grid` writes one TaxpayerGridChange row in the same transaction:
how (`hand`, `rule`, `import`), the grid before and after, who, why, and the rule run or
import it belongs to (`batch`). The bulk paths are set-based: one `INSERT … SELECT` of the
history rows and one `UPDATE` of the taxpayers per grid, not a query per taxpayer.

Here rather than in taxservice/grids: they write taxpayers, and grids sit below taxpayers
in the core's layers (pyproject.toml).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.errors import ActionForbidden, InvalidInput, NotFound
from taxservice.grids.models import Grid, GridImport, GridRule, GridRuleRun
from taxservice.org.models import Staff
from taxservice.taxpayers import sql
from taxservice.taxpayers.models import Taxpayer, TaxpayerGridChange
from taxservice.taxpayers.validators import normalise_credit_code

logger = logging.getLogger(__name__)

Method = TaxpayerGridChange.Method
REASON_MAX = 500


# --- by hand ---------------------------------------------------------------------------------


def taxpayer_grid_set(*, actor: Staff | None, credit_code: str, grid_code: str | None, reason: str) -> Taxpayer:
    """Put one taxpayer in a grid (`grid_code`; empty or None takes them out of any grid).

    Needs a reason. Coordinators and administrators may use any grid; a branch chief only
    grids of their branch scope, for the grid the taxpayer leaves as for the one they join.
    Setting the grid the taxpayer is already in changes nothing and writes no history.
    """
    access.require(access.can_assign_grids, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the taxpayer changes grid."), code="reason_required")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("The reason is longer than 500 characters."), fields={"reason": [_("Too long.")]})
    target = None
    if grid_code:
        target = Grid.objects.filter(code=grid_code, active=True).first()
        if target is None:
            raise InvalidInput(_("No active grid %(code)s.") % {"code": grid_code}, fields={"grid": [_("Unknown.")]})
    with transaction.atomic():
        taxpayer = (
            Taxpayer.objects.select_for_update(of=("self",), no_key=True)
            .select_related("grid")
            .filter(credit_code=normalise_credit_code(credit_code))
            .first()
        )
        if taxpayer is None:
            raise NotFound(_("No taxpayer has the credit code %(code)s.") % {"code": credit_code})
        for grid in (target, taxpayer.grid):
            if grid is not None and not access.may_manage_grid(actor, grid):
                raise ActionForbidden(_("Grid %(code)s is outside your branch.") % {"code": grid.code})
        if taxpayer.grid_id == (target.pk if target else None):
            return taxpayer
        TaxpayerGridChange.objects.create(
            taxpayer=taxpayer,
            before_id=taxpayer.grid_id,
            after=target,
            method=Method.HAND,
            reason=reason,
            actor=actor,
        )
        taxpayer.grid = target
        taxpayer.save(update_fields=["grid"])
        return taxpayer


# --- set-based moves -------------------------------------------------------------------------


def _move(
    *, taxpayers: QuerySet[Taxpayer], grid_id: int, method: str, reason: str, batch: str, actor: Staff | None, now
) -> int:
    """Move `taxpayers` (those not in the grid already) into the grid: the history rows by one
    INSERT … SELECT (the grid before read from each row), then one UPDATE. Call inside a
    transaction. Returns how many moved."""
    moving = taxpayers.exclude(grid_id=grid_id)
    inserted = sql.grid_history_insert(
        moving,
        grid_id=grid_id,
        method=method,
        reason=reason[:REASON_MAX],
        batch=batch[:64],
        actor_id=actor.pk if actor else None,
        at=now,
    )
    # The same rows: the UPDATE is the statement after, in the same transaction.
    updated = moving.update(grid_id=grid_id)
    if inserted not in (-1, updated):  # -1: the driver does not count INSERT … SELECT
        raise RuntimeError(f"grid move wrote {inserted} history rows for {updated} taxpayers")
    return updated


# --- by rule ---------------------------------------------------------------------------------


def _rule_q(rule: GridRule) -> Q:
    q = Q()
    if rule.area is not None:
        q &= Q(address__contains=rule.area.name)
    if rule.address_contains:
        q &= Q(address__contains=rule.address_contains)
    if rule.competent_branch_id is not None:
        q &= Q(competent_branch_id=rule.competent_branch_id)
    return q


def grid_rules_apply(
    *, actor: Staff | None, scope: str = GridRuleRun.Scope.UNASSIGNED, reason: str = ""
) -> GridRuleRun:
    """Apply the active grid rules, in order, to every taxpayer: each takes the grid of the
    first rule that matches their address and branch. `scope` `unassigned` touches only
    taxpayers without a grid (hand and import assignments stay); `all` moves every matching
    taxpayer. One transaction, set-based per rule; the run row records what each rule moved.
    """
    access.require(access.can_apply_grid_rules, actor)
    if scope not in GridRuleRun.Scope.values:
        raise InvalidInput(_("Unknown scope %(scope)s.") % {"scope": scope}, fields={"scope": [_("Unknown.")]})
    rules = list(
        GridRule.objects.filter(active=True, grid__active=True).select_related("area").order_by("priority", "id")
    )
    now = timezone.now()
    with transaction.atomic():
        run = GridRuleRun.objects.create(
            started_by=actor, scope=scope, reason=(reason or "")[:REASON_MAX], total_rules=len(rules), started_at=now
        )
        batch = f"rule-run:{run.pk}"
        claimed = Q(pk__in=[])  # taxpayers an earlier rule matched: the first rule wins
        per_rule: dict[str, int] = {}
        for rule in rules:
            match = _rule_q(rule)
            taxpayers = Taxpayer.objects.filter(match).exclude(claimed)
            if scope == GridRuleRun.Scope.UNASSIGNED:
                taxpayers = taxpayers.filter(grid__isnull=True)
            per_rule[str(rule.pk)] = _move(
                taxpayers=taxpayers,
                grid_id=rule.grid_id,
                method=Method.RULE,
                reason=reason or _("Grid rule %(id)s") % {"id": rule.pk},
                batch=batch,
                actor=actor,
                now=now,
            )
            claimed |= match
        run.processed_rules = len(rules)
        run.per_rule = per_rule
        run.changed = sum(per_rule.values())
        run.finished_at = timezone.now()
        run.save(update_fields=["processed_rules", "per_rule", "changed", "finished_at"])
    return run


# --- by import -------------------------------------------------------------------------------

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
PROGRESS_EVERY = 200
CHUNK = 500
# What a multipart body may carry besides the file: boundaries, part headers, a CSRF token.
FORM_OVERHEAD = 64 * 1024
HEADERS = {
    "credit_code": "credit_code",
    "taxpayer": "credit_code",
    "统一社会信用代码": "credit_code",
    "纳税人识别号": "credit_code",
    "grid": "grid",
    "grid_code": "grid",
    "网格": "grid",
    "网格编码": "grid",
}
REQUIRED = ("credit_code", "grid")


class FileTooLarge(InvalidInput):
    code = "file_too_large"
    status = 413  # Payload Too Large


def grid_import_refuse_large(*, content_length: str | int | None = None, file_size: int | None = None) -> None:
    """Raise FileTooLarge if the request's Content-Length or the file's size is over the limit;
    call it before the body or the file is read."""
    try:
        declared = int(content_length) if content_length is not None and content_length != "" else None
    except (TypeError, ValueError):
        declared = None
    if (declared is not None and declared > MAX_BYTES + FORM_OVERHEAD) or (
        file_size is not None and file_size > MAX_BYTES
    ):
        raise FileTooLarge(_("The file is larger than 5 MB."))


def _cells(filename: str, content: bytes) -> Iterator[list]:
    name = filename.lower()
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("Save the CSV file as UTF-8."), code="bad_encoding") from None
        try:
            yield from csv.reader(io.StringIO(text))
        except csv.Error:
            raise InvalidInput(_("This CSV file cannot be read."), code="bad_file") from None
    elif name.endswith(".xlsx"):
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
        except Exception:  # openpyxl raises many types for a broken file
            raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
        try:
            for row in rows:
                yield list(row)
        except Exception:
            raise InvalidInput(_("This .xlsx file cannot be read."), code="bad_file") from None
        finally:
            book.close()
    else:
        raise InvalidInput(_("Upload a .csv or .xlsx file."), code="bad_file_type")


def grid_import_parse(*, filename: str, content: bytes) -> list[dict]:
    """The file's rows as `{credit_code, grid}`. The size is checked before the file is read,
    and reading stops at the first row past MAX_ROWS."""
    grid_import_refuse_large(file_size=len(content))
    header: list[str | None] | None = None
    rows: list[dict] = []
    for cells in _cells(filename, content):
        if not any(str(cell or "").strip() for cell in cells):
            continue
        if header is None:
            header = [HEADERS.get(str(c or "").strip().lower(), HEADERS.get(str(c or "").strip())) for c in cells]
            missing = [column for column in REQUIRED if column not in header]
            if missing:
                raise InvalidInput(
                    _("The first row must name the columns; missing: %(cols)s.") % {"cols": ", ".join(missing)},
                    code="missing_columns",
                )
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(_("At most %(n)s rows per file.") % {"n": MAX_ROWS}, code="too_many_rows")
        row = {"credit_code": "", "grid": ""}
        for column, cell in zip(header, cells, strict=False):
            if column:
                row[column] = str(cell if cell is not None else "").strip()
        rows.append(row)
    if header is None:
        raise InvalidInput(_("The file is empty."), code="empty_file")
    if not rows:
        raise InvalidInput(_("The file has a header but no rows."), code="empty_file")
    return rows


def grid_import_start(*, actor: Staff, filename: str, content: bytes, reason: str = "") -> GridImport:
    """Parse the file and store it; a background job checks and imports it (`grid_import_process`)."""
    access.require(access.can_assign_grids, actor)
    rows = grid_import_parse(filename=filename, content=content)
    with transaction.atomic():
        batch = GridImport.objects.create(
            uploaded_by=actor,
            filename=filename[:200],
            reason=(reason or "").strip()[:REASON_MAX],
            rows=rows,
            total_rows=len(rows),
        )
        scheduling.start_job(scheduling.PROCESS_GRID_IMPORT, batch.pk)
    return batch


def progress_key(import_id: int) -> str:
    return f"grid-import-progress:{import_id}"


def grid_import_progress(batch: GridImport) -> tuple[int, int]:
    """(processed, total) for the progress bar; the import's live count while it runs."""
    if batch.state == GridImport.State.IMPORTING:
        return cache.get(progress_key(batch.pk), batch.processed_rows), batch.total_rows
    return batch.processed_rows, batch.total_rows


FINISHED = (GridImport.State.DONE, GridImport.State.FAILED)
OPEN = (GridImport.State.PENDING, GridImport.State.VALIDATING, GridImport.State.IMPORTING)


def grid_import_process(*, import_id: int) -> GridImport:
    """Check every row; any error and nothing is written, else every row in one transaction.

    Every run ends the import `done` or `failed`. Idempotent: a finished import is left
    alone, and one found `importing` (a redelivered message) is never imported twice.
    """
    batch = GridImport.objects.select_related("uploaded_by").get(pk=import_id)
    if batch.state in FINISHED:
        return batch
    if batch.state == GridImport.State.IMPORTING:
        return grid_import_settle_interrupted(import_id=batch.pk)
    try:
        return _check_and_import(batch)
    except Exception:
        logger.exception("Grid import %s failed", batch.pk)
        cache.delete(progress_key(batch.pk))
        _fail(batch, code="import_failed", message=_("The import stopped on an unexpected error; nothing was written."))
        return GridImport.objects.get(pk=batch.pk)


def grid_import_settle_interrupted(*, import_id: int) -> GridImport:
    """A batch `importing` whose row lock nobody holds was interrupted (its transaction rolled
    back: nothing written): it fails, saying so. A running import is left alone."""
    with transaction.atomic():
        batch = GridImport.objects.select_for_update(no_key=True, skip_locked=True).filter(pk=import_id).first()
        if batch is None:
            return GridImport.objects.get(pk=import_id)
        if batch.state == GridImport.State.IMPORTING:
            cache.delete(progress_key(batch.pk))
            _fail(batch, code="interrupted", message=_("The import was interrupted; nothing was written."))
        return batch


def _row_errors(batch: GridImport) -> list[dict]:
    codes = {normalise_credit_code(row["credit_code"]) for row in batch.rows}
    known = set(Taxpayer.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))
    grids = {grid.code: grid for grid in Grid.objects.filter(code__in={row["grid"] for row in batch.rows})}
    actor = batch.uploaded_by
    errors: list[dict] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, row in enumerate(batch.rows, start=2):  # row 1 is the header
        code = normalise_credit_code(row["credit_code"])
        if not code:
            errors.append({"row": number, "field": "credit_code", "message": _("The credit code is missing.")})
        elif code not in known:
            errors.append({"row": number, "field": "credit_code", "message": _("No taxpayer “%(v)s”.") % {"v": code}})
        elif code in seen and seen[code][1] != row["grid"]:
            errors.append(
                {
                    "row": number,
                    "field": "credit_code",
                    "message": _("Row %(row)s puts this taxpayer in another grid.") % {"row": seen[code][0]},
                }
            )
        else:
            seen.setdefault(code, (number, row["grid"]))
        grid = grids.get(row["grid"])
        if grid is None or not grid.active:
            errors.append(
                {"row": number, "field": "grid", "message": _("No active grid “%(v)s”.") % {"v": row["grid"]}}
            )
        elif not access.may_manage_grid(actor, grid):
            errors.append(
                {"row": number, "field": "grid", "message": _("Grid %(v)s is outside your branch.") % {"v": grid.code}}
            )
        if number % PROGRESS_EVERY == 0:
            GridImport.objects.filter(pk=batch.pk).update(processed_rows=number - 1)
    return errors


def _check_and_import(batch: GridImport) -> GridImport:
    if not _transition(batch, (GridImport.State.PENDING,), state=GridImport.State.VALIDATING, processed_rows=0):
        return GridImport.objects.get(pk=batch.pk)
    errors = _row_errors(batch)
    if errors:
        _transition(
            batch,
            (GridImport.State.VALIDATING,),
            state=GridImport.State.FAILED,
            errors=errors,
            processed_rows=batch.total_rows,
            finished_at=timezone.now(),
        )
        return GridImport.objects.get(pk=batch.pk)
    if not _transition(batch, (GridImport.State.VALIDATING,), state=GridImport.State.IMPORTING, processed_rows=0):
        return GridImport.objects.get(pk=batch.pk)
    by_grid: dict[str, list[str]] = {}
    for row in batch.rows:
        by_grid.setdefault(row["grid"], []).append(normalise_credit_code(row["credit_code"]))
    grids = {grid.code: grid.pk for grid in Grid.objects.filter(code__in=by_grid)}
    now = timezone.now()
    changed = done = 0
    with transaction.atomic():
        # Held until the commit: it tells a redelivered message that this import is alive.
        if not list(
            GridImport.objects.select_for_update(no_key=True)
            .filter(pk=batch.pk, state=GridImport.State.IMPORTING)
            .values_list("pk", flat=True)
        ):
            return GridImport.objects.get(pk=batch.pk)
        for grid_code, codes in by_grid.items():
            for chunk in _chunks(sorted(set(codes)), CHUNK):
                changed += _move(
                    taxpayers=Taxpayer.objects.filter(credit_code__in=chunk),
                    grid_id=grids[grid_code],
                    method=Method.IMPORT,
                    reason=batch.reason or _("Import %(id)s: %(file)s") % {"id": batch.pk, "file": batch.filename},
                    batch=f"import:{batch.pk}",
                    actor=batch.uploaded_by,
                    now=now,
                )
                done += len(chunk)
                cache.set(progress_key(batch.pk), done, 3600)
        unique = len({normalise_credit_code(row["credit_code"]) for row in batch.rows})
        GridImport.objects.filter(pk=batch.pk).update(
            state=GridImport.State.DONE,
            processed_rows=batch.total_rows,
            changed_count=changed,
            unchanged_count=unique - changed,
            rows=[],
            finished_at=timezone.now(),
        )
    cache.delete(progress_key(batch.pk))
    return GridImport.objects.get(pk=batch.pk)


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fail(batch: GridImport, *, code: str, message: str) -> None:
    error = {"row": None, "field": "", "code": code, "message": str(message)}
    _transition(batch, OPEN, state=GridImport.State.FAILED, errors=[error], finished_at=timezone.now())


def _transition(batch: GridImport, sources: tuple[str, ...], **fields) -> bool:
    """Save the fields only if the import is still in one of `sources`; True if it was."""
    moved = GridImport.objects.filter(pk=batch.pk, state__in=sources).update(**fields)
    if moved:
        for name, value in fields.items():
            setattr(batch, name, value)
    return bool(moved)
