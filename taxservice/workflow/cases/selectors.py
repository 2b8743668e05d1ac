"""Reads on cases and tasks, scoped to what the staff member may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django_fsm import can_proceed

from taxservice.org.models import Staff
from taxservice.workflow.cases import policy
from taxservice.workflow.cases.models import TRANSITION_METHODS, Case, Task, TaskTransition

TASK_RELATED = ("item", "taxpayer", "team", "assignee", "case")


def task_visibility_filter(staff: Staff) -> Q | None:
    """The Q that limits tasks to the staff member's teams and branch; None means all."""
    if staff.sees_everything:
        return None
    scope = policy.staff_branch_scope(staff)
    return (
        Q(team_id__in=policy.staff_team_ids(staff))
        | Q(team__branch_id__in=scope)
        | Q(case__hall_id__in=scope)
        | Q(case__accepted_by_id=staff.pk)
    )


def task_list_for_staff(*, staff: Staff) -> QuerySet[Task]:
    qs = Task.objects.select_related(*TASK_RELATED).order_by("-created_at", "-id")
    visibility = task_visibility_filter(staff)
    return qs if visibility is None else qs.filter(visibility)


def task_get_for_staff(*, staff: Staff, task_id: int) -> Task | None:
    return task_list_for_staff(staff=staff).filter(pk=task_id).first()


def task_history(*, task: Task) -> list[TaskTransition]:
    return list(task.transitions.select_related("actor").order_by("at", "id"))


def case_list_for_staff(*, staff: Staff) -> QuerySet[Case]:
    qs = Case.objects.select_related("taxpayer", "hall", "accepted_by").order_by("-created_at", "-id")
    visibility = task_visibility_filter(staff)
    if visibility is None:
        return qs
    visible_tasks = task_list_for_staff(staff=staff).values("case_id")
    return qs.filter(
        Q(pk__in=visible_tasks) | Q(hall_id__in=policy.staff_branch_scope(staff)) | Q(accepted_by_id=staff.pk)
    )


def case_get_for_staff(*, staff: Staff, case_id: int) -> Case | None:
    """The case with its tasks and each task's full history, or None if not visible."""
    transitions = TaskTransition.objects.select_related("actor").order_by("at", "id")
    tasks = Task.objects.select_related(*TASK_RELATED).prefetch_related(Prefetch("transitions", queryset=transitions))
    return (
        case_list_for_staff(staff=staff)
        .prefetch_related(Prefetch("tasks", queryset=tasks.order_by("id")))
        .filter(pk=case_id)
        .first()
    )


def allowed_transitions(*, staff: Staff, task: Task) -> list[str]:
    """The transitions `staff` could make on `task` now (state, conditions and permission)."""
    names = []
    for name, method_name in TRANSITION_METHODS.items():
        if not can_proceed(getattr(task, method_name)):
            continue
        if policy.transition_denial(staff, task, name) is None:
            names.append(name)
    return names
