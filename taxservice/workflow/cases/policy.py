"""Who may make which transition on which task: read off the transition specs.

Pure functions over already-loaded objects: no queries beyond the staff member's cached
roles, teams, branch scope and delegations, and — for the four-eyes decisions only — the
task's assignments and log (prefetched by the lists: `selectors.DECISION_PREFETCH`). The service calls `transition_denial` inside the
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
from taxservice.org.models import Role, Staff, Team
from taxservice.workflow.cases.models import current_approval_step
from taxservice.workflow.cases.transitions import TRANSITIONS

if TYPE_CHECKING:
    from taxservice.workflow.cases.models import Task


@dataclass(frozen=True)
class Denied:
    reason: str


# The log rows whose actor did the task's work (besides holding it: TaskAssignment).
WORK_STEPS = frozenset(
    {"accept", "complete", "submit_for_approval", "request_materials", "receive_materials", "handle_on_spot"}
)
DECISIONS = frozenset({"approve", "reject", "send_back"})


def worked_on(task: Task) -> frozenset[int]:
    """Everyone who could be judging their own work on this task: whoever ever held it
    (the robot's assignments too), did a step of its work (a supervisor stepping in), or
    already approved a step of the current approval round. Reads `task.assignments` and
    `task.transitions` (prefetched on lists)."""
    ids = {row.staff_id for row in task.assignments.all()}
    log = sorted(task.transitions.all(), key=lambda row: (row.at, row.pk))
    round_start = max((i for i, row in enumerate(log) if row.transition == "submit_for_approval"), default=0)
    for i, row in enumerate(log):
        if row.actor_id is None:
            continue
        if row.transition in WORK_STEPS or (row.transition == "approve" and i > round_start):
            ids.add(row.actor_id)
    return frozenset(ids)


def _four_eyes_denial(staff: Staff, task: Task) -> Denied | None:
    if task.assignee_id == staff.pk or staff.pk in worked_on(task):
        return Denied(_("You may not decide on work you held or did yourself (four eyes)."))
    return None


def _approval_step_denial(staff: Staff, task: Task, name: str) -> Denied | None:
    """Multi-step approval: a team lead decides only a step before the last, on their own
    teams' tasks; the last step is a branch chief's or a coordinator's."""
    if name not in DECISIONS:
        return None
    step = current_approval_step(task)
    final = step >= task.item.approval_levels
    if final and not staff.has_role(*access.FINAL_APPROVERS):
        return Denied(_("The last approval step is the branch chief's."))
    if (
        not final
        and not staff.has_role(Role.BRANCH_CHIEF)
        and not (staff.has_role(Role.TEAM_LEAD) and task.team_id in access.staff_team_ids(staff))
    ):
        return Denied(_("This step is the team lead's."))
    return None


def transition_denial(staff: Staff, task: Task, name: str, *, assignee_id: int | None = None) -> Denied | None:
    """Why `staff` may not make transition `name` on `task`, or None when they may."""
    spec = TRANSITIONS.get(name)
    # Four eyes binds everyone, administrators too.
    if spec is not None and spec.four_eyes:
        denial = _four_eyes_denial(staff, task)
        if denial is not None:
            return denial
    if access.is_admin(staff):
        return None
    own = own_denial(staff, task, name, assignee_id=assignee_id)
    if own is not None and deputising_for(staff, task, name) is not None:
        return None
    return own


def deputising_for(staff: Staff, task: Task, name: str) -> Staff | None:
    """The branch chief for whom `staff` may take this decision as their deputy (a running
    delegation; the chief themselves could take it), or None."""
    spec = TRANSITIONS.get(name)
    if spec is None or not spec.delegable:
        return None
    for chief in access.acting_for(staff):
        if own_denial(chief, task, name) is None and _four_eyes_denial(chief, task) is None:
            return chief
    return None


def own_denial(staff: Staff, task: Task, name: str, *, assignee_id: int | None = None) -> Denied | None:
    spec = TRANSITIONS.get(name)
    if spec is None or not staff.has_role(*spec.roles):
        return Denied(_("Your roles do not allow the “%(name)s” transition.") % {"name": name})
    if not access.can_see_task(staff, task):
        return Denied(_("This task belongs to another team or branch."))
    if not access.may_act_on(staff, task):
        return Denied(_("You see this task, but it is not your team's work."))
    if name == "cancel" and not staff.has_role(*access.SUPERVISORS) and task.state != "received":
        return Denied(_("At the counter only what has not been transferred is cancelled; ask the coordinator."))
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
    return _approval_step_denial(staff, task, name)


def holding_refusal(staff: Staff, task: Task) -> str | None:
    """Why `staff` could not hold the task (`not_a_handler`, `not_a_member`, `not_on_duty`), or None.

    A holder works tasks: a handler or a supervisor (`access.WORKERS`); a clerk, the
    integrator, an inspector or an administrator holds none, wherever the task sits.

    A holder is a member of the task's team, unless the task sits at the coordination post
    (or has no team), and is on duty. The offer of `assign` (above) and the service's
    check of a named assignee (`services._resolve_assignee`) both ask this."""
    if not staff.has_role(*access.WORKERS):
        return "not_a_handler"
    if task.team is not None and task.team.kind != Team.Kind.COORDINATION_POST:
        if task.team.pk not in access.staff_team_ids(staff):
            return "not_a_member"
    if not staff.on_duty:
        return "not_on_duty"
    return None


def subtask_denial(staff: Staff, task: Task) -> Denied | None:
    """Who opens a sub-task: the task's holder, or a supervisor (coordinator, branch chief)
    who can see it; administrators too."""
    if access.is_admin(staff):
        return None
    if not access.can_see_task(staff, task):
        return Denied(_("This task belongs to another team or branch."))
    if not access.may_act_on(staff, task):
        return Denied(_("You see this task, but it is not your team's work."))
    if task.assignee_id != staff.pk and not access.is_supervisor(staff):
        return Denied(_("Only the task's holder or a supervisor opens sub-tasks."))
    return None
