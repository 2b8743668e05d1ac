"""Reads of the coordinator's dashboard, built on the core's selectors (taxservice.workflow.routing.selectors)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from taxservice.org.models import Branch, Staff
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.routing import selectors as hub_selectors
from taxservice.workflow.routing.models import (
    RobotRun,
    RoutingRule,
    RoutingRuleChange,
    UploadBatch,
)
from taxservice.workflow.routing.selectors import (  # noqa: F401 - re-exported for the dashboard's views
    AGE_BUCKETS,
    DUE_BUCKETS,
    FACETS,
    HUB_STATES,
    NO_TEAM,
    Clock,
    FacetValue,
    hub_facets,
    hub_tasks,
)

# The hub's lists and facet counts live in the core (taxservice.workflow.routing.selectors), which
# the API shares; re-exported here for the dashboard's views.


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
    rules = list(RoutingRule.objects.select_related("match_item", "match_district", "updated_by", "team"))
    rules.sort(key=lambda rule: (rule.priority, -rule.specificity, rule.pk))
    return rules


def districts() -> list[Branch]:
    """District bureaus, which a rule may match on."""
    return list(Branch.objects.filter(kind=Branch.Kind.DISTRICT).order_by("code"))


def rule_changes(*, rule: RoutingRule) -> QuerySet[RoutingRuleChange]:
    return rule.changes.select_related("changed_by").order_by("-version")
