"""Sortable list columns: `?sort=due_at` ascending, `?sort=-due_at` descending.

Each list names the columns it may be sorted by, mapped to the ORM field that orders them;
anything else in `sort` (a typo, an old link, a field we do not show) is ignored and the
list keeps its default order, so a hand-edited address never gives an error page. The id
breaks ties in the same direction, so paging through equal values neither repeats nor
skips a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# The task tables (web/_task_table.html): my tasks, the middle office queue, approvals.
TASK_SORTS: Mapping[str, str] = {
    "id": "id",
    "item": "item__code",
    "taxpayer": "taxpayer__name",
    "team": "team__name",
    "assignee": "assignee__name",
    "state": "state",
    "due_at": "due_at",
}
# The hub's list (middle_office/hub.html). Its age is the time since the task came in:
# the youngest first when ascending.
HUB_SORTS: Mapping[str, str] = {
    "id": "id",
    "item": "item__code",
    "taxpayer": "taxpayer__name",
    "source": "source",
    "team": "team__name",
    "assignee": "assignee__name",
    "age": "-created_at",
    "due_at": "due_at",
}
# The case list (web/case_list.html).
CASE_SORTS: Mapping[str, str] = {
    "id": "id",
    "taxpayer": "taxpayer__name",
    "channel": "channel",
    "hall": "hall__name",
    "accepted_by": "accepted_by__name",
    "state": "state",
    "created_at": "created_at",
}


@dataclass(frozen=True)
class Sort:
    """`value` is the accepted `sort` parameter ("" when the default order applies);
    `order_by` is what to pass to `QuerySet.order_by`, or () to keep the default."""

    value: str
    order_by: tuple[str, ...]

    def apply(self, queryset: QuerySet[M]) -> QuerySet[M]:
        return queryset.order_by(*self.order_by) if self.order_by else queryset


def sort_parse(value: str | None, *, allowed: Mapping[str, str]) -> Sort:
    """Read a `sort` parameter against the list's whitelist. A field written "-field" in
    the whitelist runs the other way (an age is a creation time read backwards)."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value[1:] if descending else value
    field = allowed.get(key)
    if not key or field is None:
        return Sort(value="", order_by=())
    if field.startswith("-"):
        field, descending = field[1:], not descending
    sign = "-" if descending else ""
    order: Sequence[str] = (f"{sign}{field}",) if field == "id" else (f"{sign}{field}", f"{sign}id")
    return Sort(value=value, order_by=tuple(order))
