"""Who may make which transition on which task: read off the transition specs.

Pure functions over already-loaded objects: no queries beyond the staff member's cached
roles, teams and branch scope. The service calls `transition_denial` inside the
transaction; the pages and the API call it (through `selectors.allowed_transitions`) to
offer only the steps that would be accepted. The role sets and visibility are in
`taxservice.access`; the per-transition rules (roles, holder-only, four eyes) in
`transitions.TRANSITIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from taxservice import access
from taxservice.org.models import Staff, Team
from taxservice.workflow.cases.transitions import TRANSITIONS

if TYPE_CHECKING:
    from taxservice.workflow.cases.models import Task


@dataclass(frozen=True)
class Denied:
    reason: str


def transition_denial(staff: Staff, task: Task, name: str, *, assignee_id: int | None = None) -> Denied | None:
    """Why `staff` may not make transition `name` on `task`, or None when they may."""
    if access.is_admin(staff):
        return None
    spec = TRANSITIONS.get(name)
    if spec is None or not staff.has_role(*spec.roles):
        return Denied(_("Your roles do not allow the “%(name)s” transition.") % {"name": name})
    if not access.can_see_task(staff, task):
        return Denied(_("This task belongs to another team or branch."))
    supervisor = access.is_supervisor(staff)
    if spec.holder_only and task.assignee_id != staff.pk and not supervisor:
        return Denied(_("Only the assignee may do this."))
    if spec.holder_or_supervisor and task.assignee_id not in (None, staff.pk) and not supervisor:
        return Denied(_("Only the assignee or a coordinator may return this task."))
    if "assignee" in spec.inputs and not access.can_assign_others(staff):
        if assignee_id not in (None, staff.pk):
            return Denied(str(access.can_assign_others.refusal))
        # They can only take it themselves: offer it only where they could hold it.
        if holding_refusal(staff, task) is not None:
            return Denied(_("Only members of the task's team may take it."))
    if spec.four_eyes and task.assignee_id == staff.pk:
        return Denied(_("You may not approve your own work."))
    return None


def holding_refusal(staff: Staff, task: Task) -> str | None:
    """Why `staff` could not hold the task (`not_a_member`, `not_on_duty`), or None.

    A holder is a member of the task's team, unless the task sits at the coordination post
    (or has no team), and is on duty. The offer of `assign` (above) and the service's
    check of a named assignee (`services._resolve_assignee`) both ask this."""
    if task.team is not None and task.team.kind != Team.Kind.COORDINATION_POST:
        if task.team.pk not in access.staff_team_ids(staff):
            return "not_a_member"
    if not staff.on_duty:
        return "not_on_duty"
    return None
