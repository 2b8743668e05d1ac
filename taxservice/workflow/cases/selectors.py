"""Reads on cases and tasks, scoped to what the staff member may see."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django_fsm import can_proceed

from taxservice import access
from taxservice.org.models import Staff
from taxservice.workflow.cases import policy, transitions
from taxservice.workflow.cases.models import Case, Task, TaskTransition

TASK_RELATED = ("item", "taxpayer", "team", "assignee", "case")


def task_list_for_staff(*, staff: Staff) -> QuerySet[Task]:
    qs = Task.objects.select_related(*TASK_RELATED).order_by("-created_at", "-id")
    visibility = access.visible_tasks_q(staff)
    return qs if visibility is None else qs.filter(visibility)


def task_get_for_staff(*, staff: Staff, task_id: int) -> Task | None:
    return task_list_for_staff(staff=staff).filter(pk=task_id).first()


def task_history(*, task: Task) -> list[TaskTransition]:
    return list(task.transitions.select_related("actor").order_by("at", "id"))


def case_list_for_staff(*, staff: Staff) -> QuerySet[Case]:
    qs = Case.objects.select_related("taxpayer", "hall", "accepted_by").order_by("-created_at", "-id")
    visibility = access.visible_cases_q(staff, visible_task_case_ids=task_list_for_staff(staff=staff).values("case_id"))
    return qs if visibility is None else qs.filter(visibility)


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
    return [
        name
        for name in transitions.NAMES
        if can_proceed(transitions.method_of(task, name)) and policy.transition_denial(staff, task, name) is None
    ]
