"""Column filters of the lists, kept in the address: `?state=queued&item=A001&due=overdue&q=…`.

One parser for every list. Each list declares its filters (`MY_TASK_FILTERS`,
`QUEUE_FILTERS`, `APPROVAL_FILTERS`, `CASE_FILTERS`); `filters_parse` reads them from the
query string against the list's own rows, and the result narrows the list's queryset
(the page, its count, its export and its live refresh all read the same address, so they
show the same rows). A value the list does not know — a typo, an old link, a team that
was renamed — is left out and named in `problems`, which the filter bar shows; it never
gives an error page, and the other filters still apply.

The choices of a select are the values the unfiltered list holds (the items, teams and
people in it, one query each), plus the chosen value while it still exists, so a filter
that now matches nothing stays chosen instead of turning into an error. The due-time
buckets are the hub's (`routing.selectors.DUE_BUCKETS`, cut by its `Clock`), with "at
risk" added from the stored running-clock columns (`clock_at_risk_at`, `clock_due_at`,
which `clocks.glance` reads for the lists' countdowns).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import CharField, Model, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.taxpayers.selectors import taxpayer_search
from taxservice.workflow.cases.models import OPEN_STATES, Case, Channel, TaskState
from taxservice.workflow.routing.selectors import DUE_BUCKETS, NO_TEAM, Clock

TEXT_MAX_CHARS = 100
NOBODY = NO_TEAM  # "-": the team or assignee filter's value for rows that have none
AT_RISK = "at_risk"
DUE_CHOICES: list[tuple[str, Any]] = [*DUE_BUCKETS, (AT_RISK, _("At risk"))]

Choices = list[tuple[str, Any]]


@dataclass(frozen=True)
class Options:
    """A select's values read from the list: the `model` rows its `column` points to
    (`item_id` → Item), each offered as its `value` field with its `label` field (after
    the value when `value_first`, as item codes are), and a "nobody" choice (`NOBODY`)
    for rows without one when `none_label` is set."""

    model: type[Model]
    column: str
    value: str
    label: str
    value_first: bool = False
    none_label: Any = None

    def query(self, name: str, rows: QuerySet, chosen: str) -> QuerySet:
        in_list = Q(pk__in=rows.order_by().values(self.column))
        wanted = in_list | Q(**{self.value: chosen}) if chosen else in_list
        tag = Value(name, output_field=CharField())
        return self.model.objects.filter(wanted).order_by().values_list(tag, self.value, self.label)

    def choices(self, found: list[tuple[str, str]]) -> Choices:
        found = sorted(found, key=lambda pair: pair[0] if self.value_first else (pair[1], pair[0]))
        out: Choices = [(value, f"{value} {label}" if self.value_first else label) for value, label in found]
        if self.none_label is not None:
            out.append((NOBODY, self.none_label))
        return out


@dataclass(frozen=True)
class ListFilter:
    """One filter of a list: its parameter `name`, its `label`, and either fixed `choices`,
    `options` read from the values the list holds, or neither (a text box).
    `apply(rows, value, now)` narrows the rows to the value."""

    name: str
    label: Any
    apply: Callable[[QuerySet, str, dt.datetime], QuerySet]
    choices: Choices | None = None
    options: Options | None = None

    @property
    def is_text(self) -> bool:
        return self.choices is None and self.options is None


@dataclass(frozen=True)
class Field:
    """What the filter bar shows for one filter."""

    name: str
    label: Any
    value: str
    choices: Choices
    is_text: bool


@dataclass
class Filtered:
    """The filters read from a request: `values` (accepted, by name), `problems` (one
    sentence per value left out), `fields` for the filter bar."""

    values: dict[str, str]
    problems: list[str]
    fields: list[Field]
    declared: Sequence[ListFilter] = field(repr=False, default=())
    kept: list[tuple[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.values)

    def apply(self, rows: QuerySet, *, now: dt.datetime | None = None) -> QuerySet:
        now = now or timezone.now()
        for spec in self.declared:
            if spec.name in self.values:
                rows = spec.apply(rows, self.values[spec.name], now)
        return rows

    def chosen(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def clear_query(self) -> str:
        """The address of the same list without its filters (its sort and tab kept)."""
        return "?" + urlencode(self.kept) if self.kept else "?"


KEPT = ("sort", "show")  # what the filter bar carries along as hidden fields, and "clear" keeps


def filters_parse(params: Mapping[str, str], *, declared: Sequence[ListFilter], rows: QuerySet) -> Filtered:
    """Read the declared filters from `params` (request.GET). `rows` is the list before
    any filter: the selects offer the values it holds, read in one query for them all."""
    kept = [(name, params[name]) for name in KEPT if params.get(name)]
    raw = {spec.name: (params.get(spec.name) or "").strip() for spec in declared}
    read = _read_options(declared, rows, raw)
    values: dict[str, str] = {}
    problems: list[str] = []
    fields: list[Field] = []
    for spec in declared:
        given = raw[spec.name]
        if spec.is_text:
            value = given[:TEXT_MAX_CHARS]
            if value:
                values[spec.name] = value
            fields.append(Field(spec.name, spec.label, value, [], True))
            continue
        choices = list(spec.choices) if spec.choices is not None else read[spec.name]
        if given and given in {value for value, _label in choices}:
            values[spec.name] = given
        elif given:
            problems.append(
                gettext("The filter “%(filter)s” cannot be “%(value)s”; it was left out.")
                % {"filter": spec.label, "value": given[:TEXT_MAX_CHARS]}
            )
            given = ""
        fields.append(Field(spec.name, spec.label, given, choices, False))
    return Filtered(values=values, problems=problems, fields=fields, declared=declared, kept=kept)


def _read_options(declared: Sequence[ListFilter], rows: QuerySet, raw: Mapping[str, str]) -> dict[str, Choices]:
    """Every select's values, as one UNION ALL of a query per select."""
    specs = [spec for spec in declared if spec.options is not None]
    if not specs:
        return {}
    queries = [spec.options.query(spec.name, rows, raw[spec.name]) for spec in specs]  # type: ignore[union-attr]
    found: dict[str, list[tuple[str, str]]] = {spec.name: [] for spec in specs}
    for name, value, label in queries[0].union(*queries[1:], all=True):
        found[name].append((value, label))
    return {spec.name: spec.options.choices(found[spec.name]) for spec in specs}  # type: ignore[union-attr]


# --- how each filter narrows a list -----------------------------------------------------------


def _state_choices(states: Sequence[TaskState] | type[Case.State]) -> Choices:
    return [(state.value, state.label) for state in states]


def _by_state(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(state=value)


def _by_item(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(item__code=value)


def _by_team(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(team__isnull=True) if value == NOBODY else rows.filter(team__code=value)


def _by_assignee(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(assignee__isnull=True) if value == NOBODY else rows.filter(assignee__user__username=value)


def _by_handling_list(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(item__handling_list=value)


def _by_tier(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(tier=value)


def due_filter(bucket: str, now: dt.datetime) -> Q:
    """Tasks in a due-time bucket: the hub's three (`Clock.due_filter`), or at risk — the
    running internal clock is in its last stretch (`clock_at_risk_at` passed, its due time
    not yet), the promise is not broken, and the task is not paused for materials: the
    rows whose countdown shows the ⏳ mark of `clocks.glance`."""
    if bucket == AT_RISK:
        return (
            Q(clock_at_risk_at__lte=now, clock_due_at__gte=now, due_at__gte=now)
            & ~Q(state=TaskState.AWAITING_MATERIALS)
            & Q(state__in=OPEN_STATES)
        )
    return Clock.at(now).due_filter(bucket)


def _by_due(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(due_filter(value, now))


def _by_taxpayer_text(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    # The one taxpayer search: a credit code's beginning (normalised) or part of the name.
    return rows.filter(taxpayer__in=taxpayer_search(query=value).values("pk"))


def _by_channel(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(channel=value)


def _by_hall(rows: QuerySet, value: str, now: dt.datetime) -> QuerySet:
    return rows.filter(hall__code=value)


# --- the lists ---------------------------------------------------------------------------------

QUEUE_STATES = [TaskState.QUEUED, TaskState.ASSIGNED, TaskState.IN_PROGRESS]

_STATE_LABEL = _("State")
_ITEM = ListFilter("item", _("Item"), _by_item, options=Options(Item, "item_id", "code", "name", value_first=True))
_TEAM = ListFilter(
    "team", _("Team"), _by_team, options=Options(Team, "team_id", "code", "name", none_label=_("No team"))
)
_ASSIGNEE = ListFilter(
    "assignee",
    _("Assignee"),
    _by_assignee,
    options=Options(Staff, "assignee_id", "user__username", "name", none_label=_("Nobody")),
)
_DUE = ListFilter("due", _("Due"), _by_due, choices=DUE_CHOICES)
_TAXPAYER = ListFilter("q", _("Taxpayer credit code or name"), _by_taxpayer_text)

# My tasks (web/my_tasks.html): what I hold.
MY_TASK_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("state", _STATE_LABEL, _by_state, choices=_state_choices(OPEN_STATES)),
    _ITEM,
    _TEAM,
    _DUE,
    _TAXPAYER,
)
# The middle office queue (middle_office/queue.html).
QUEUE_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("state", _STATE_LABEL, _by_state, choices=_state_choices(QUEUE_STATES)),
    _ITEM,
    _TEAM,
    _ASSIGNEE,
    ListFilter("handling_list", _("List"), _by_handling_list, choices=list(HandlingList.choices)),
    ListFilter(
        "tier",
        _("Tier"),
        _by_tier,
        choices=[(tier.value, tier.label) for tier in (Tier.MIDDLE, Tier.BACK, Tier.GRID)],
    ),
    _DUE,
    _TAXPAYER,
)
# The approval queue and the extension requests (back_office/approvals.html).
APPROVAL_FILTERS: tuple[ListFilter, ...] = (_ITEM, _TEAM, _ASSIGNEE, _DUE, _TAXPAYER)
# The case list (web/case_list.html).
CASE_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("state", _STATE_LABEL, _by_state, choices=list(Case.State.choices)),
    ListFilter("channel", _("Channel"), _by_channel, choices=list(Channel.choices)),
    ListFilter("hall", _("Accepting hall"), _by_hall, options=Options(Branch, "hall_id", "code", "name")),
    _TAXPAYER,
)
# The chief's desk's task list (back_office/desk_tasks.html): the branch's open work. Each
# figure of the desk links here with the same filters (team, assignee, state, due), so the
# list's count is the figure (back_office/queries.py counts with these `due_filter`s).
DESK_FILTERS: tuple[ListFilter, ...] = (
    ListFilter("state", _STATE_LABEL, _by_state, choices=_state_choices(OPEN_STATES)),
    _ITEM,
    _TEAM,
    _ASSIGNEE,
    _DUE,
    _TAXPAYER,
)
