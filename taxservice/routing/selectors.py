"""Reads for the hub: its queue, alerts, robot runs and staff load."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from taxservice.cases import selectors
from taxservice.cases.models import Task, TaskState
from taxservice.org.models import Staff


def hub_queue(*, staff: Staff, filters) -> QuerySet[Task]:  # noqa: ANN001 - a QueryDict or dict
    """Queued tasks the staff member may see; tasks with an open alert first, then oldest first.

    Raises ValueError for a filter value it cannot read.
    """
    qs = (
        selectors.task_list_for_staff(staff=staff)
        .filter(state=TaskState.QUEUED)
        # Matches the task_hub_queue_idx index (state, -has_open_alert, created_at, id).
        .order_by("-has_open_alert", "created_at", "id")
    )
    if filters.get("team"):
        qs = qs.filter(team__code=filters["team"])
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("tier"):
        qs = qs.filter(tier=filters["tier"])
    if filters.get("alerts") == "true":
        qs = qs.filter(has_open_alert=True)
    if filters.get("older_than_hours"):
        try:
            hours = int(filters["older_than_hours"])
        except ValueError:
            raise ValueError("older_than_hours must be a whole number") from None
        qs = qs.filter(created_at__lte=timezone.now() - dt.timedelta(hours=hours))
    if filters.get("due_before"):
        moment = parse_datetime(filters["due_before"])
        if moment is None:
            raise ValueError("due_before must be an ISO date-time")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        qs = qs.filter(due_at__lt=moment)
    return qs


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
