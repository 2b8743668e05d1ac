"""Reads of grids, scoped to who is asking (taxservice.access.may_see_grid, as a queryset)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from taxservice import access
from taxservice.grids.models import Area, Grid, GridImport, GridRule, GridRuleRun
from taxservice.org.models import Role, Staff


def _visible_grids_q(staff: Staff) -> Q | None:
    """The queryset form of `access.may_see_grid`; None means every grid."""
    if staff.sees_everything:
        return None
    q = Q(team_id__in=access.staff_grid_team_ids(staff)) | Q(leader_id=staff.pk)
    if staff.has_role(Role.BRANCH_CHIEF):
        q |= Q(branch_id__in=access.staff_branch_scope(staff))
    return q


def grids_for_staff(*, staff: Staff) -> QuerySet[Grid]:
    """The grids the staff member sees, with their area, branch, group and leader, and each
    grid's number of taxpayers (`taxpayer_count`) and group members (`member_count`)."""
    qs = (
        Grid.objects.select_related("area__parent", "branch", "team", "leader")
        .annotate(
            taxpayer_count=Count("taxpayers", distinct=True),
            member_count=Count("team__members", distinct=True),
        )
        .order_by("code")
    )
    visible = _visible_grids_q(staff)
    return qs if visible is None else qs.filter(visible)


def grid_get_for_staff(*, staff: Staff, code: str) -> Grid | None:
    return grids_for_staff(staff=staff).filter(code=code).first()


def grid_get_by_id_for_staff(*, staff: Staff, grid_id: int) -> Grid | None:
    return grids_for_staff(staff=staff).filter(pk=grid_id).first()


def grid_members(*, grid: Grid) -> list[Staff]:
    return list(grid.team.members.order_by("name", "id"))


def grid_choices() -> QuerySet[Grid]:
    """Every active grid, for the forms that pick one (the services check who may use which)."""
    return Grid.objects.filter(active=True).select_related("branch").order_by("code")


def streets() -> QuerySet[Area]:
    return Area.objects.filter(level=Area.Level.STREET).select_related("parent").order_by("code")


def grid_rules() -> QuerySet[GridRule]:
    return GridRule.objects.select_related("area", "grid", "competent_branch").order_by("priority", "id")


def grid_rule_runs() -> QuerySet[GridRuleRun]:
    return GridRuleRun.objects.select_related("started_by").order_by("-started_at", "-id")


def grid_imports_for_staff(*, staff: Staff) -> QuerySet[GridImport]:
    """Imports: everyone's for coordinators and administrators, one's own otherwise."""
    qs = GridImport.objects.select_related("uploaded_by").order_by("-created_at", "-id")
    return qs if staff.has_role(Role.COORDINATOR, Role.ADMIN) else qs.filter(uploaded_by=staff)


def grid_import_get_for_staff(*, staff: Staff, import_id: int) -> GridImport | None:
    return grid_imports_for_staff(staff=staff).filter(pk=import_id).first()
