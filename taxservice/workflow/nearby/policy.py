"""Who may do what with visits and collected materials (pure: reads the loaded rows and the
staff member's cached roles, teams and branch scope).

- **Visits** (上门办) are the grid's work: the members of the grid's service group (a team of
  the grid kind) and its leader schedule, record and cancel visits to the taxpayers of
  their grid; branch chiefs within their branch scope, coordinators and administrators
  anywhere. The visiting staff member records their own visit.
- **Collected materials** (代收办): clerks (the service points' counters) and grid staff
  collect and hand them over; the handling team's members (and the supervisors) mark them
  received, then returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from taxservice import access
from taxservice.org.models import Role, Staff

R = Role

VISIT_REFUSAL = _("Only the grid's staff, its leader, the branch chief and coordinators work this grid's visits.")
COLLECT_REFUSAL = _("Only clerks, grid staff and coordinators collect materials at a service point.")
HAND_OVER_REFUSAL = _("Only clerks, grid staff and coordinators hand materials over.")
TEAM_REFUSAL = _("Only the handling team's members and supervisors mark materials received or returned.")


def is_grid_staff(staff: Staff) -> bool:
    """A member of any grid service group (a team of the grid kind: `access.staff_team_ids`
    with the kinds loaded by the caller as `grid_team_ids`, see `grid_team_ids`)."""
    return bool(grid_team_ids(staff))


def grid_team_ids(staff: Staff) -> frozenset[int]:
    """The staff member's grid service groups, cached on the instance."""
    cached = getattr(staff, "_nearby_grid_teams", None)
    if cached is None:
        cached = frozenset(team.pk for team in staff.teams.all() if team.kind == team.Kind.GRID)
        staff._nearby_grid_teams = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


def may_work_visits(staff: Staff, grid: Any) -> bool:
    """Schedule, record or cancel visits to the taxpayers of `grid` (a loaded Grid, or None for
    a taxpayer in no grid: then only the supervisors)."""
    if staff.has_role(R.ADMIN, R.COORDINATOR):
        return True
    if grid is None:
        return staff.has_role(R.BRANCH_CHIEF)
    if grid.team_id in access.staff_team_ids(staff) or grid.leader_id == staff.pk:
        return True
    return staff.has_role(R.BRANCH_CHIEF) and grid.branch_id in access.staff_branch_scope(staff)


def may_go_on_visit(staff: Staff, grid: Any) -> bool:
    """Whether `staff` may be the one who goes: a member of the grid's group or its leader
    (anyone who works the grid's visits, for a taxpayer in no grid)."""
    if grid is None:
        return True
    return grid.team_id in access.staff_team_ids(staff) or grid.leader_id == staff.pk


def may_record_visit(staff: Staff, visit: Any) -> bool:
    return visit.staff_id == staff.pk or may_work_visits(staff, visit.grid)


def may_collect(staff: Staff) -> bool:
    return staff.has_role(R.CLERK, R.COORDINATOR, R.ADMIN) or is_grid_staff(staff)


def may_step(staff: Staff, collection: Any, step: str) -> bool:
    """`hand_over` from the point; `receive` and `return` by the handling team."""
    if staff.has_role(R.ADMIN, R.COORDINATOR):
        return True
    if step == "hand_over":
        return collection.created_by_id == staff.pk or may_collect(staff)
    if collection.team_id in access.staff_team_ids(staff):
        return True
    return staff.has_role(R.BRANCH_CHIEF) and collection.team.branch_id in access.staff_branch_scope(staff)


@dataclass(frozen=True)
class GridStaffRule(access.Rule):
    """A page rule: one of `roles`, or a member of a grid service group (grid staff)."""

    def __call__(self, staff: Staff | None) -> bool:
        return staff is not None and (staff.has_role(*self.roles) or is_grid_staff(staff))


can_use_visits = GridStaffRule(
    name="can_use_visits",
    roles=frozenset({R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN}),
    refusal=_("Only grid staff, branch chiefs and coordinators work door-to-door visits."),
)
can_use_collections = GridStaffRule(
    name="can_use_collections",
    roles=frozenset({R.CLERK, R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF, R.ADMIN}),
    refusal=_("Only clerks, grid staff, team members and supervisors follow collected materials."),
)
