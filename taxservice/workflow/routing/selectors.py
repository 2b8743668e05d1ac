"""Reads for the hub: its queue, its lists by state with facet counts, and staff load.

The facet counts and the list are made by the same function (`_narrowed`), each facet
leaving out its own dimension: so a count always equals the length of the list its
link opens. Facets that count the same tasks share one GROUP BY query (`hub_facets`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from taxservice import access
from taxservice.errors import NotFound
from taxservice.org.models import Staff, Team, Tier
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import OPEN_STATES, Task, TaskState
from taxservice.workflow.routing.models import HubAlert, StaffConflict, StaffLeave


def hub_queue(*, staff: Staff) -> QuerySet[Task]:
    """Queued tasks the staff member may see; tasks with an open alert first, then oldest first.

    Matches the task_hub_queue_idx index (state, -has_open_alert, created_at, id). The
    filters are `hub_tasks`'s.
    """
    return (
        selectors.task_list_for_staff(staff=staff)
        .filter(state=TaskState.QUEUED)
        .order_by("-has_open_alert", "created_at", "id")
    )


def staff_with_load(*, on_duty: bool | None = None) -> QuerySet[Staff]:
    """Staff with their teams and open tasks (`Staff.open_tasks`, kept by the services); on duty first."""
    qs = (
        Staff.objects.select_related("home_branch")
        .prefetch_related("teams")
        .order_by("-on_duty", "home_branch__code", "name")
    )
    return qs if on_duty is None else qs.filter(on_duty=on_duty)


def staff_on_duty_with_load() -> QuerySet[Staff]:
    return staff_with_load(on_duty=True)


# --- the hub's lists by state, with facet counts (the dashboard and GET /api/v1/hub/queue/) ---

# The states the hub watches: waiting for someone, and held by someone.
HUB_STATES = [
    TaskState.QUEUED,
    TaskState.ASSIGNED,
    TaskState.IN_PROGRESS,
    TaskState.AWAITING_MATERIALS,
    TaskState.AWAITING_APPROVAL,
]
AGE_BUCKETS = [("lt1", _("Under 1 day")), ("1to3", _("1–3 days")), ("gt3", _("Over 3 days"))]
DUE_BUCKETS = [("overdue", _("Overdue")), ("today", _("Due today")), ("later", _("Due later"))]
NO_TEAM = "-"  # the team filter's value for tasks that have no team
FACETS = ("state", "team", "source", "age", "due", "alerts")


@dataclass(frozen=True)
class Clock:
    """The moments the age and due buckets are cut at, fixed once per page."""

    now: dt.datetime
    day_ago: dt.datetime
    three_days_ago: dt.datetime
    end_of_today: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime) -> Clock:
        local = timezone.localtime(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            now=now,
            day_ago=now - dt.timedelta(days=1),
            three_days_ago=now - dt.timedelta(days=3),
            end_of_today=midnight + dt.timedelta(days=1),
        )

    def age_filter(self, bucket: str) -> Q:
        return {
            "lt1": Q(created_at__gt=self.day_ago),
            "1to3": Q(created_at__lte=self.day_ago, created_at__gt=self.three_days_ago),
            "gt3": Q(created_at__lte=self.three_days_ago),
        }[bucket]

    def due_filter(self, bucket: str) -> Q:
        return {
            "overdue": Q(due_at__lt=self.now),
            "today": Q(due_at__gte=self.now, due_at__lt=self.end_of_today),
            "later": Q(due_at__gte=self.end_of_today),
        }[bucket]


def _base(*, staff: Staff, state: str | None) -> QuerySet[Task]:
    """Tasks in `state` (None: every hub state) the staff member may see, alerts first.

    The queued list is the core's hub queue itself; the other states follow its order.
    """
    if state == TaskState.QUEUED:
        return hub_queue(staff=staff)
    qs = selectors.task_list_for_staff(staff=staff)
    qs = qs.filter(state=state) if state else qs.filter(state__in=HUB_STATES)
    return qs.order_by("-has_open_alert", "created_at", "id")


def _narrowed(qs: QuerySet[Task], *, filters: dict, clock: Clock, skip: str = "") -> QuerySet[Task]:
    """Apply every filter but `skip` (a facet counts across its own dimension)."""
    team = filters.get("team")
    if team and skip != "team":
        qs = qs.filter(team__isnull=True) if team == NO_TEAM else qs.filter(team__code=team)
    if filters.get("source") and skip != "source":
        qs = qs.filter(source=filters["source"])
    if filters.get("tier"):
        qs = qs.filter(tier=filters["tier"])
    if filters.get("alerts") and skip != "alerts":
        qs = qs.filter(has_open_alert=True)
    if filters.get("age") and skip != "age":
        qs = qs.filter(clock.age_filter(filters["age"]))
    if filters.get("due") and skip != "due":
        qs = qs.filter(clock.due_filter(filters["due"]))
    # The API's exact cut-offs (read by clean_hub_filters); not facets of their own.
    if filters.get("older_than_hours") is not None:
        qs = qs.filter(created_at__lte=clock.now - dt.timedelta(hours=filters["older_than_hours"]))
    if filters.get("due_before") is not None:
        qs = qs.filter(due_at__lt=filters["due_before"])
    return qs


# A century: a larger age would reach before year 1 (OverflowError) and means nothing.
MAX_OLDER_THAN_HOURS = 100 * 366 * 24


def clean_hub_filters(params: Mapping[str, str]) -> dict:
    """The hub list's filters from query parameters (a QueryDict or a dict of strings).

    Raises ValueError naming a bad one.
    """
    filters: dict = {}
    state = params.get("state") or ""
    if state:
        if state not in {s.value for s in HUB_STATES}:
            raise ValueError(f"state must be one of {', '.join(s.value for s in HUB_STATES)}")
        filters["state"] = state
    if params.get("team"):
        filters["team"] = params["team"]  # any code: a task may sit in any team
    for name, allowed in (("source", Task.Source.values), ("tier", Tier.values)):
        value = params.get(name) or ""
        if value:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
            filters[name] = value
    for name, buckets in (("age", AGE_BUCKETS), ("due", DUE_BUCKETS)):
        value = params.get(name) or ""
        if value:
            if value not in {bucket for bucket, _label in buckets}:
                raise ValueError(f"{name} must be one of {', '.join(bucket for bucket, _label in buckets)}")
            filters[name] = value
    alerts = (params.get("alerts") or "").lower()
    if alerts not in ("", "true", "false", "1", "0"):
        raise ValueError("alerts must be true or false")
    filters["alerts"] = alerts in ("true", "1")
    if params.get("older_than_hours"):
        try:
            filters["older_than_hours"] = int(params["older_than_hours"])
        except ValueError:
            raise ValueError("older_than_hours must be a whole number") from None
        if not 0 <= filters["older_than_hours"] <= MAX_OLDER_THAN_HOURS:
            raise ValueError(f"older_than_hours must be from 0 to {MAX_OLDER_THAN_HOURS}")
    if params.get("due_before"):
        moment = parse_datetime(params["due_before"])
        if moment is None:
            raise ValueError("due_before must be an ISO date-time")
        filters["due_before"] = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        try:
            filters["due_before"].astimezone(dt.UTC)  # as the database compares it
        except OverflowError:
            raise ValueError("due_before is out of range") from None
    return filters


def hub_tasks(*, staff: Staff, filters: dict, clock: Clock) -> QuerySet[Task]:
    """The hub's list: tasks in the chosen state (queued by default), with their open alerts."""
    state = filters.get("state") or TaskState.QUEUED
    alerts = HubAlert.objects.filter(resolved_at__isnull=True).order_by("-created_at", "-id")
    return _narrowed(_base(staff=staff, state=state), filters=filters, clock=clock).prefetch_related(
        Prefetch("hub_alerts", queryset=alerts, to_attr="open_alerts")
    )


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


def hub_facets(*, staff: Staff, filters: dict, clock: Clock) -> dict[str, list[FacetValue]]:
    """Counts by state, team, source line, age and due, and of tasks with an open alert.

    Each facet applies every filter but its own. Facets whose own dimension is not
    filtered therefore count the same tasks, and come from one scan: a GROUP BY state and
    the team, source and alert columns, with the age and due buckets counted as
    conditional aggregates, summed here per facet (the state facet across states, the
    others within the chosen state). A facet whose dimension is filtered gets a query of
    its own. On the unfiltered dashboard that is one scan of the tasks instead of six
    (bench/hub_queue.py). The buckets are aggregates, not GROUP BY columns, so that
    PostgreSQL can estimate the number of groups and hash them.
    """
    state = filters.get("state") or TaskState.QUEUED
    dimensions = [d for d in FACETS if d != "state"]  # state is counted by the shared scan, across states
    shared = [d for d in dimensions if not filters.get(d)]
    columns = {"team": "team_id", "source": "source", "alerts": "has_open_alert"}
    bucket_filters = {"age": (AGE_BUCKETS, clock.age_filter), "due": (DUE_BUCKETS, clock.due_filter)}

    def narrowed(dimension: str, *, base_state: str | None) -> QuerySet[Task]:
        return _narrowed(_base(staff=staff, state=base_state), filters=filters, clock=clock, skip=dimension).order_by()

    def bucket_counts(dimension: str) -> dict[str, Count]:
        buckets, where = bucket_filters[dimension]
        return {f"{dimension}_{bucket}": Count("id", filter=where(bucket)) for bucket, _label in buckets}

    counts: dict[str, dict] = {d: {} for d in FACETS}

    def add(dimension: str, value: object, n: int) -> None:
        counts[dimension][value] = counts[dimension].get(value, 0) + n

    by = ["state", *(columns[d] for d in shared if d in columns)]
    aggregates = {"n": Count("id")}
    for d in shared:
        if d in bucket_filters:
            aggregates.update(bucket_counts(d))
    for row in narrowed("", base_state=None).values(*by).annotate(**aggregates):
        add("state", row["state"], row["n"])
        if row["state"] != state:
            continue
        for d in shared:
            if d in columns:
                add(d, row[columns[d]], row["n"])
            else:
                for bucket, _label in bucket_filters[d][0]:
                    add(d, bucket, row[f"{d}_{bucket}"])
    for d in dimensions:
        if d in shared:
            continue
        if d in columns:
            rows = narrowed(d, base_state=state).values(columns[d]).annotate(n=Count("id"))
            counts[d] = {row[columns[d]]: row["n"] for row in rows}
        else:
            totals = narrowed(d, base_state=state).aggregate(**bucket_counts(d))
            counts[d] = {bucket: totals[f"{d}_{bucket}"] for bucket, _label in bucket_filters[d][0]}

    teams = {team.pk: team for team in Team.objects.filter(pk__in=[pk for pk in counts["team"] if pk is not None])}
    return {
        "state": [FacetValue(s.value, str(s.label), counts["state"].get(s.value, 0)) for s in HUB_STATES],
        "team": sorted(
            (
                FacetValue(teams[pk].code, teams[pk].name, n) if pk is not None else FacetValue(NO_TEAM, "—", n)
                for pk, n in counts["team"].items()
                if n
            ),
            key=lambda facet: (-facet.count, facet.label),
        ),
        "source": [
            FacetValue(value, str(label), counts["source"][value])
            for value, label in Task.Source.choices
            if counts["source"].get(value)
        ],
        "age": [FacetValue(bucket, str(label), counts["age"].get(bucket, 0)) for bucket, label in AGE_BUCKETS],
        "due": [FacetValue(bucket, str(label), counts["due"].get(bucket, 0)) for bucket, label in DUE_BUCKETS],
        "alerts": [FacetValue("true", str(_("With an open alert")), counts["alerts"].get(True, 0))],
    }


# --- grids (网格兜底) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridTaskCounts:
    open: int
    overdue: int
    queued: int
    done_30_days: int


def grid_task_counts(*, team_id: int) -> GridTaskCounts:
    """The grid group's tasks: open, overdue (open past the stored promise `due_at`), waiting
    in the queue, and finished in the last 30 days; one query."""
    now = timezone.now()
    open_states = list(OPEN_STATES)
    counts = Task.objects.filter(team_id=team_id).aggregate(
        open=Count("pk", filter=Q(state__in=open_states)),
        overdue=Count("pk", filter=Q(state__in=open_states, due_at__lt=now)),
        queued=Count("pk", filter=Q(state=TaskState.QUEUED)),
        done=Count(
            "pk", filter=Q(state__in=[TaskState.DONE, TaskState.CLOSED], updated_at__gte=now - dt.timedelta(days=30))
        ),
    )
    return GridTaskCounts(
        open=counts["open"], overdue=counts["overdue"], queued=counts["queued"], done_30_days=counts["done"]
    )


def grid_open_tasks(*, staff: Staff, team_id: int, overdue: bool = False) -> QuerySet[Task]:
    """The grid group's open tasks the staff member sees, soonest due first."""
    qs = selectors.task_list_for_staff(staff=staff).filter(team_id=team_id, state__in=OPEN_STATES)
    if overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    return qs.order_by("due_at", "id")


def overdue_taxpayer_ids(*, team_id: int) -> QuerySet:
    """The ids of taxpayers with an overdue open task in the grid group (a subquery)."""
    return Task.objects.filter(team_id=team_id, state__in=OPEN_STATES, due_at__lt=timezone.now()).values_list(
        "taxpayer_id", flat=True
    )


# --- conflicts of interest (回避) and leave ------------------------------------------------------


def absence_staff(*, actor: Staff, staff_id: int) -> Staff:
    """The staff member whose conflicts and leave `actor` may see and declare: a branch chief's
    own branch scope, an administrator's anyone. Anyone else's is 404 (never a leak)."""
    access.require(access.can_declare_absences, actor)
    staff = Staff.objects.select_related("home_branch").filter(pk=staff_id).first()
    if staff is None or not access.may_manage_branch(actor, staff.home_branch_id):
        raise NotFound(gettext("No staff member %(id)s.") % {"id": staff_id})
    return staff


def conflict_list(*, actor: Staff, staff_id: int) -> QuerySet[StaffConflict]:
    """The staff member's declared conflicts, current first, then newest first."""
    staff = absence_staff(actor=actor, staff_id=staff_id)
    return (
        StaffConflict.objects.filter(staff=staff)
        .select_related("taxpayer", "declared_by", "withdrawn_by")
        .order_by(F("withdrawn_at").desc(nulls_first=True), "-declared_at", "-id")
    )


def leave_list(*, actor: Staff, staff_id: int) -> QuerySet[StaffLeave]:
    """The staff member's declared leave, current first, then latest first."""
    staff = absence_staff(actor=actor, staff_id=staff_id)
    return (
        StaffLeave.objects.filter(staff=staff)
        .select_related("declared_by", "withdrawn_by")
        .order_by(F("withdrawn_at").desc(nulls_first=True), "-starts_on", "-id")
    )
