"""Lists to Excel: `?export=xlsx` on a list page answers its rows as a workbook.

A list view hands `export_response` the same queryset, filtered and ordered as the page
shows it (every page, not only the current one), and the table's columns as
(header, getter) pairs. The rows are counted first: over `EXPORT_MAX_ROWS` nothing is
read or built, and the person goes back to the list with a message saying to narrow it.
The workbook is written in openpyxl's write-only mode, row by row from a chunked
iterator, so memory stays flat up to the cap.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from io import BytesIO
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

EXPORT_MAX_ROWS = 10_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 500

Column = tuple[Any, Callable[[Any], Any]]  # (header, getter); the header may be a lazy string


class ExportTooLarge(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def wants_xlsx(request: HttpRequest) -> bool:
    return request.GET.get("export") == "xlsx"


def xlsx_response(*, filename: str, columns: Sequence[Column], rows: Any) -> HttpResponse:
    """The rows as a one-sheet workbook to download. `rows` is a queryset (or anything
    with `count()` and iteration); raises ExportTooLarge before reading any row."""
    count = rows.count()
    if count > EXPORT_MAX_ROWS:
        raise ExportTooLarge(count)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([str(header) for header, _getter in columns])
    for row in _iterate(rows):
        sheet.append([_cell(getter(row)) for _header, getter in columns])
    out = BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_response(request: HttpRequest, *, name: str, columns: Sequence[Column], rows: Any) -> HttpResponse:
    """The download, or — over the cap — back to the same list without `export`, with a message."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    try:
        return xlsx_response(filename=f"{name}-{stamp}.xlsx", columns=columns, rows=rows)
    except ExportTooLarge as error:
        messages.error(
            request,
            _("%(count)d rows match, more than the %(limit)d an export may hold. Narrow the list with its filters.")
            % {"count": error.count, "limit": EXPORT_MAX_ROWS},
        )
        query = request.GET.copy()
        query.pop("export", None)
        return HttpResponseRedirect(request.path + (f"?{query.urlencode()}" if query else ""))


def _iterate(rows: Any) -> Iterable[Any]:
    iterator = getattr(rows, "iterator", None)
    return iterator(chunk_size=CHUNK_SIZE) if iterator is not None else rows


def _cell(value: Any) -> Any:
    # Excel holds no time zones: write the local wall-clock time the page shows.
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, (int, float, datetime.date, datetime.datetime)):
        return value
    return str(value)


# --- the lists' columns, as their tables show them --------------------------------------------


def _taxpayer(row: Any) -> str:
    return f"{row.taxpayer.name} ({row.taxpayer.credit_code})"


def task_columns(*, with_assignee: bool = True) -> list[Column]:
    """web/_task_table.html without its actions column."""
    columns: list[Column] = [
        (gettext_lazy("No."), lambda t: f"T{t.pk}"),
        (gettext_lazy("Item"), lambda t: f"{t.item.code} {t.item.name}"),
        (gettext_lazy("Taxpayer"), _taxpayer),
        (gettext_lazy("Team"), lambda t: t.team.name if t.team_id else ""),
    ]
    if with_assignee:
        columns.append((gettext_lazy("Assignee"), lambda t: t.assignee.name if t.assignee_id else ""))
    columns += [
        (gettext_lazy("State"), lambda t: t.get_state_display()),
        (gettext_lazy("Due"), lambda t: t.due_at),
    ]
    return columns


CASE_COLUMNS: list[Column] = [
    (gettext_lazy("No."), lambda c: f"#{c.pk}"),
    (gettext_lazy("Taxpayer"), _taxpayer),
    (gettext_lazy("Channel"), lambda c: c.get_channel_display()),
    (gettext_lazy("Accepting hall"), lambda c: c.hall.name if c.hall_id else ""),
    (gettext_lazy("Accepted by"), lambda c: c.accepted_by.name if c.accepted_by_id else ""),
    (gettext_lazy("Items"), lambda c: f"{c.open_task_count} / {c.task_count}"),
    (gettext_lazy("State"), lambda c: c.get_state_display()),
    (gettext_lazy("Opened"), lambda c: c.created_at),
]


def hub_columns(*, with_assignee: bool) -> list[Column]:
    """middle_office/hub.html without its tick box."""
    columns: list[Column] = [
        (gettext_lazy("No."), lambda t: f"T{t.pk}"),
        (gettext_lazy("Item"), lambda t: f"{t.item.code} {t.item.name}"),
        (gettext_lazy("Taxpayer"), _taxpayer),
        (gettext_lazy("Source"), lambda t: t.get_source_display()),
        (gettext_lazy("Team"), lambda t: t.team.name if t.team_id else ""),
    ]
    if with_assignee:
        columns.append((gettext_lazy("Assignee"), lambda t: t.assignee.name if t.assignee_id else ""))
    columns += [
        (gettext_lazy("Age"), lambda t: timesince(t.created_at)),
        (gettext_lazy("Due"), lambda t: t.due_at),
        (gettext_lazy("Alert"), lambda t: "; ".join(a.message for a in t.open_alerts)),
    ]
    return columns


INBOX_COLUMNS: list[Column] = [
    (gettext_lazy("Status"), lambda n: _("Read") if n.read_at else _("Unread")),
    (gettext_lazy("Message"), lambda n: n.message),
    (gettext_lazy("Task"), lambda n: f"T{n.task_id}"),
    (gettext_lazy("Received at"), lambda n: n.created_at),
    (gettext_lazy("Read at"), lambda n: n.read_at),
]
