"""Who may see a task and who may make which transition.

Pure functions over already-loaded objects: no queries beyond the staff member's
cached roles and team ids. The service layer calls `check_transition` inside the
transaction; the API and the pages call `allowed_transitions` to show buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from taxservice.org.models import Role, Staff

R = Role

# Which roles may make each transition at all. Assignee-only steps are marked by
# ASSIGNEE_ONLY below: there the actor must also be the task's assignee.
TRANSITION_ROLES: dict[str, frozenset[str]] = {
    "handle_on_spot": frozenset({R.CLERK}),
    "transfer": frozenset({R.CLERK, R.COORDINATOR}),
    "assign": frozenset({R.COORDINATOR, R.TEAM_MEMBER, R.EXPERT, R.BRANCH_CHIEF}),
    "accept": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "return": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "request_materials": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "receive_materials": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF, R.CLERK}),
    "escalate": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR}),
    "submit_for_approval": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "approve": frozenset({R.BRANCH_CHIEF, R.COORDINATOR}),
    "reject": frozenset({R.BRANCH_CHIEF, R.COORDINATOR}),
    "complete": frozenset({R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "give_feedback": frozenset({R.CLERK, R.TEAM_MEMBER, R.EXPERT, R.COORDINATOR, R.BRANCH_CHIEF}),
    "cancel": frozenset({R.CLERK, R.COORDINATOR, R.BRANCH_CHIEF}),
    "reroute": frozenset({R.COORDINATOR}),
    "reassign": frozenset({R.COORDINATOR, R.BRANCH_CHIEF}),
}

# Steps only the person holding the task takes (a supervisor role may still act:
# coordinators and branch chiefs step in for absent staff, see SUPERVISORS).
ASSIGNEE_ONLY = frozenset({"accept", "request_materials", "escalate", "submit_for_approval", "complete"})
SUPERVISORS = frozenset({R.COORDINATOR, R.BRANCH_CHIEF})
# Who may assign a task to someone other than themselves.
ASSIGN_OTHERS = frozenset({R.COORDINATOR, R.BRANCH_CHIEF})
# Reasons are required for these.
REASON_REQUIRED = frozenset({"return", "escalate", "reject", "cancel", "reroute", "reassign"})
# Roles that may open cases (front desk in the browser, other platforms through the API).
CASE_CREATORS = frozenset({R.CLERK, R.INTEGRATOR, R.COORDINATOR})


@dataclass(frozen=True)
class Denied:
    reason: str


def can_see(staff: Staff, task) -> bool:  # noqa: ANN001 - a Task
    if staff.sees_everything:
        return True
    scope = staff_branch_scope(staff)
    if task.team_id is not None and (task.team_id in staff_team_ids(staff) or task.team.branch_id in scope):
        return True
    return task.case_id is not None and (task.case.hall_id in scope or task.case.accepted_by_id == staff.pk)


def staff_team_ids(staff: Staff) -> frozenset[int]:
    cached = getattr(staff, "_team_ids_cache", None)
    if cached is None:
        cached = frozenset(team.pk for team in staff.teams.all())
        staff._team_ids_cache = cached
    return cached


def staff_branch_scope(staff: Staff) -> frozenset[int]:
    """The staff member's home branch and, for a branch with halls (or a hall), those halls."""
    cached = getattr(staff, "_branch_scope_cache", None)
    if cached is None:
        home = staff.home_branch
        # A hall's staff work for the hall's tax-service branch as a whole (all its halls).
        root = home.parent if home.kind == home.Kind.HALL and home.parent_id is not None else home
        ids = {home.pk, root.pk}
        ids.update(root.children.values_list("pk", flat=True))
        cached = frozenset(ids)
        staff._branch_scope_cache = cached
    return cached


def transition_denial(staff: Staff, task, name: str, *, assignee_id: int | None = None) -> Denied | None:  # noqa: ANN001
    """Why `staff` may not make transition `name` on `task`, or None when they may."""
    if staff.has_role(R.ADMIN):
        return None
    roles = TRANSITION_ROLES.get(name, frozenset())
    if not staff.has_role(*roles):
        return Denied(_("Your roles do not allow the “%(name)s” transition.") % {"name": name})
    if not can_see(staff, task):
        return Denied(_("This task belongs to another team or branch."))
    is_supervisor = staff.has_role(*SUPERVISORS)
    if name in ASSIGNEE_ONLY and task.assignee_id != staff.pk and not is_supervisor:
        return Denied(_("Only the assignee may do this."))
    if name == "return" and task.assignee_id not in (None, staff.pk) and not is_supervisor:
        return Denied(_("Only the assignee or a coordinator may return this task."))
    if name in {"assign", "reassign"} and assignee_id not in (None, staff.pk) and not staff.has_role(*ASSIGN_OTHERS):
        return Denied(_("Only coordinators and branch chiefs may assign a task to someone else."))
    if name in {"approve", "reject"} and task.assignee_id == staff.pk:
        return Denied(_("You may not approve your own work."))
    return None
