"""Reads of visits, collected materials and service points, scoped to who is asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from taxservice import access
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Role, Staff, Team
from taxservice.workflow.cases.models import Case
from taxservice.workflow.cases.selectors import case_list_for_staff
from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent


def visit_list_for_staff(*, staff: Staff, state: str = "", mine: bool = False) -> QuerySet[Visit]:
    """The visits the staff member may see: their own (to make or scheduled by them), their
    grids' (group member or leader), their branch scope's for a branch chief; all for
    coordinators, administrators and whoever sees everything. `mine`: only those they make."""
    qs = Visit.objects.select_related("taxpayer", "grid", "staff", "recorded_by", "created_by").order_by(
        "-scheduled_for", "-id"
    )
    if mine:
        qs = qs.filter(staff=staff)
    elif not (staff.sees_everything or staff.has_role(Role.COORDINATOR, Role.ADMIN)):
        q = Q(staff=staff) | Q(created_by=staff) | Q(grid__team_id__in=access.staff_team_ids(staff))
        q |= Q(grid__leader=staff)
        if staff.has_role(Role.BRANCH_CHIEF):
            q |= Q(grid__branch_id__in=access.staff_branch_scope(staff))
        qs = qs.filter(q)
    if state:
        qs = qs.filter(state=state)
    return qs


def visit_events(*, visit: Visit) -> list[VisitEvent]:
    return list(visit.events.select_related("actor").order_by("at", "id"))


def visible_cases(*, staff: Staff) -> QuerySet[Case]:
    """The cases materials may be collected for: those the staff member sees."""
    return case_list_for_staff(staff=staff)


def collection_list_for_staff(*, staff: Staff, state: str = "") -> QuerySet[Collection]:
    """Materials the staff member may see: collected by them, going to one of their teams or
    to a team of their branch scope, or collected at a point of their branch scope."""
    qs = Collection.objects.select_related("service_point", "case", "case__taxpayer", "task", "team", "created_by")
    qs = qs.order_by("-updated_at", "-id")
    if not (staff.sees_everything or staff.has_role(Role.COORDINATOR, Role.ADMIN)):
        scope = access.staff_branch_scope(staff)
        qs = qs.filter(
            Q(created_by=staff)
            | Q(team_id__in=access.staff_team_ids(staff))
            | Q(team__branch_id__in=scope)
            | Q(service_point__branch_id__in=scope)
        )
    if state:
        qs = qs.filter(state=state)
    return qs


def collection_steps(*, collection: Collection) -> list[CollectionStep]:
    return list(collection.steps.select_related("actor").order_by("at", "id"))


def collection_attach_steps(collections: list[Collection]) -> None:
    """Load each listed collection's steps, oldest first, in one query (`collection.step_list`)."""
    steps = CollectionStep.objects.select_related("actor").order_by("at", "id")
    prefetch_related_objects(collections, Prefetch("steps", queryset=steps, to_attr="step_list"))


def service_point_list(*, active: bool | None = None) -> QuerySet[ServicePoint]:
    """Every service point (the list is public to staff), with its grids and branch."""
    qs = ServicePoint.objects.select_related("branch").prefetch_related("grids").order_by("code")
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def visit_staff_choices(*, staff: Staff) -> list[Staff]:
    """Whom the staff member may send on a visit: themselves and the staff of the grid groups
    they belong to; a supervisor every grid group's staff (of their branch scope, for a chief)."""
    teams = Team.objects.filter(kind=Team.Kind.GRID)
    if not (staff.sees_everything or staff.has_role(Role.COORDINATOR, Role.ADMIN)):
        q = Q(pk__in=access.staff_team_ids(staff))
        if staff.has_role(Role.BRANCH_CHIEF):
            q |= Q(branch_id__in=access.staff_branch_scope(staff))
        teams = teams.filter(q)
    people = {member.pk: member for member in Staff.objects.filter(teams__in=teams).distinct().order_by("name")}
    people.setdefault(staff.pk, staff)
    return sorted(people.values(), key=lambda member: (member.pk != staff.pk, member.name))


@dataclass(frozen=True)
class PointActivity:
    point: ServicePoint
    cases: int  # cases opened at the point in the window
    in_transit: int  # collected materials not yet received by the handling team


@dataclass(frozen=True)
class GridActivity:
    since: dt.date
    visits: dict[str, int]  # by state, visits of the grid's taxpayers scheduled since `since`
    points: list[PointActivity]


def grid_activity(*, grid_id: int, days: int = 30) -> GridActivity:
    """The grid overview's 就近办 figures: its visits by state and, for each active service
    point serving it, the cases opened there and the materials still in transit. Three
    aggregate queries, whatever the numbers."""
    since = timezone.localdate() - dt.timedelta(days=days)
    visits = dict(
        Visit.objects.filter(grid_id=grid_id, scheduled_for__gte=since)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    points = list(
        ServicePoint.objects.filter(grids__id=grid_id, active=True)
        .annotate(
            case_count=Count("cases", filter=Q(cases__created_at__date__gte=since), distinct=True),
        )
        .order_by("code")
    )
    transit = dict(
        Collection.objects.filter(
            service_point__in=points, state__in=[Collection.State.COLLECTED, Collection.State.HANDED_OVER]
        )
        .values_list("service_point_id")
        .annotate(n=Count("id"))
        .values_list("service_point_id", "n")
    )
    return GridActivity(
        since=since,
        visits={state: visits.get(state, 0) for state in Visit.State.values},
        points=[PointActivity(point, point.case_count, transit.get(point.pk, 0)) for point in points],
    )
