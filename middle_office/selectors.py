"""Reads of the coordinator's dashboard, built on the core's selectors.

The hub queue's facet counts and its list are made by the same function
(`_narrowed`), the facet leaving out its own dimension: so a count always equals the
length of the list its link opens. Every facet is one GROUP BY query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.cases import selectors as case_selectors
from taxservice.cases.models import Task, TaskState
from taxservice.org.models import Branch, Staff
from taxservice.routing import selectors as hub_selectors
from taxservice.routing.models import (
    HubAlert,
    RobotRun,
    RoutingRule,
    RoutingRuleChange,
    UploadBatch,
)

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

    def age_bucket(self) -> Case:
        return Case(
            When(created_at__gt=self.day_ago, then=Value("lt1")),
            When(created_at__gt=self.three_days_ago, then=Value("1to3")),
            default=Value("gt3"),
            output_field=CharField(),
        )

    def due_bucket(self) -> Case:
        return Case(
            When(due_at__lt=self.now, then=Value("overdue")),
            When(due_at__lt=self.end_of_today, then=Value("today")),
            default=Value("later"),
            output_field=CharField(),
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
        return hub_selectors.hub_queue(staff=staff, filters={})
    qs = case_selectors.task_list_for_staff(staff=staff)
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
    return qs


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

    Each facet applies every other filter, and is one GROUP BY query.
    """
    state = filters.get("state") or TaskState.QUEUED

    def grouped(dimension: str, *by: str, base_state: str | None = state, **extra) -> list[dict]:  # noqa: ANN003
        qs = _narrowed(_base(staff=staff, state=base_state), filters=filters, clock=clock, skip=dimension)
        if extra:
            qs = qs.annotate(**extra)
        return list(qs.order_by().values(*by).annotate(n=Count("id")))

    facets: dict[str, list[FacetValue]] = {}
    by_state = {row["state"]: row["n"] for row in grouped("state", "state", base_state=None)}
    facets["state"] = [FacetValue(s.value, str(s.label), by_state.get(s.value, 0)) for s in HUB_STATES]

    teams = grouped("team", "team__code", "team__name")
    facets["team"] = sorted(
        (FacetValue(row["team__code"] or NO_TEAM, row["team__name"] or "—", row["n"]) for row in teams),
        key=lambda facet: (-facet.count, facet.label),
    )

    by_source = {row["source"]: row["n"] for row in grouped("source", "source")}
    facets["source"] = [
        FacetValue(value, str(label), by_source[value]) for value, label in Task.Source.choices if value in by_source
    ]

    by_age = {row["age_bucket"]: row["n"] for row in grouped("age", "age_bucket", age_bucket=clock.age_bucket())}
    facets["age"] = [FacetValue(bucket, str(label), by_age.get(bucket, 0)) for bucket, label in AGE_BUCKETS]

    by_due = {row["due_bucket"]: row["n"] for row in grouped("due", "due_bucket", due_bucket=clock.due_bucket())}
    facets["due"] = [FacetValue(bucket, str(label), by_due.get(bucket, 0)) for bucket, label in DUE_BUCKETS]

    by_alert = {row["has_open_alert"]: row["n"] for row in grouped("alerts", "has_open_alert")}
    facets["alerts"] = [FacetValue("true", str(_("With an open alert")), by_alert.get(True, 0))]
    return facets


# --- staff and their load -------------------------------------------------------------------


def staff_with_load(*, on_duty: bool | None = None, team: str = "") -> QuerySet[Staff]:
    """Staff with their teams and open tasks; on duty first. `on_duty=True` is the core's list."""
    qs = hub_selectors.staff_with_load(on_duty=on_duty)
    if team:
        qs = qs.filter(teams__code=team)
    return qs.prefetch_related("role_rows")


def duty_counts() -> dict[str, int]:
    """How many staff are on and off duty: {"on": n, "off": m, "all": n + m}. One query."""
    rows = {row["on_duty"]: row["n"] for row in Staff.objects.order_by().values("on_duty").annotate(n=Count("id"))}
    on, off = rows.get(True, 0), rows.get(False, 0)
    return {"on": on, "off": off, "all": on + off}


# --- the robot, uploads and rules ---------------------------------------------------------


def robot_recent_runs(*, limit: int = 20) -> list[RobotRun]:
    return list(RobotRun.objects.order_by("-started_at", "-id")[:limit])


def robot_backlog_count() -> int:
    return Task.objects.filter(state=TaskState.QUEUED, auto_dispatch=True).count()


def upload_batches() -> QuerySet[UploadBatch]:
    # `rows` holds the parsed file until it is imported: never needed on a list.
    return UploadBatch.objects.select_related("uploaded_by").defer("rows", "errors").order_by("-created_at", "-id")


def upload_batch(*, batch_id: int) -> UploadBatch | None:
    return UploadBatch.objects.select_related("uploaded_by").defer("rows").filter(pk=batch_id).first()


def rules_in_order() -> list[RoutingRule]:
    """Every rule, active or not, in the order screening tries them (routing.engine's order:
    priority, then the more specific, then the older). The table is small: sorted in Python."""
    rules = list(RoutingRule.objects.select_related("match_item", "match_district", "updated_by"))
    rules.sort(key=lambda rule: (rule.priority, -rule.specificity, rule.pk))
    return rules


def districts() -> list[Branch]:
    """District bureaus, which a rule may match on."""
    return list(Branch.objects.filter(kind=Branch.Kind.DISTRICT).order_by("code"))


def rule_changes(*, rule: RoutingRule) -> QuerySet[RoutingRuleChange]:
    return rule.changes.select_related("changed_by").order_by("-version")
