"""Reads on cases and tasks, scoped to what the staff member may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django_fsm import can_proceed

from taxservice import access
from taxservice.org.models import Delegation, Staff
from taxservice.workflow.cases import policy, transitions
from taxservice.workflow.cases.models import OPEN_STATES, Case, Task, TaskComment, TaskTransition

TASK_RELATED = ("item", "taxpayer", "team", "assignee", "case")
# What the four-eyes rule reads (policy.worked_on): prefetch it on lists of decisions.
DECISION_PREFETCH = ("assignments", "transitions")


def task_list_for_staff(*, staff: Staff) -> QuerySet[Task]:
    qs = Task.objects.select_related(*TASK_RELATED).order_by("-created_at", "-id")
    visibility = access.visible_tasks_q(staff)
    return qs if visibility is None else qs.filter(visibility)


def task_get_for_staff(*, staff: Staff, task_id: int) -> Task | None:
    return task_list_for_staff(staff=staff).filter(pk=task_id).first()


def subtasks_of(*, staff: Staff, task: Task) -> list[Task]:
    """The task's sub-tasks (joint handling), oldest first. All of them: whoever may see
    the parent sees what its sub-tasks came to, whichever team works them."""
    return list(task.subtasks.select_related("team", "assignee").order_by("created_at", "id"))


def task_history(*, task: Task) -> list[TaskTransition]:
    return list(task.transitions.select_related("actor").order_by("at", "id"))


def case_list_for_staff(*, staff: Staff) -> QuerySet[Case]:
    qs = Case.objects.select_related("taxpayer", "hall", "service_point", "accepted_by").order_by("-created_at", "-id")
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


@dataclass(frozen=True)
class TaxpayerStory:
    """What the counter shows before a new consultation: the taxpayer's open tasks and recent cases."""

    open_tasks: Sequence[Task]
    recent_cases: Sequence[Case]
    open_count: int
    case_count: int
    visible_case_ids: frozenset[int]


def taxpayer_story(*, staff: Staff, taxpayer_id: int, limit: int = 10) -> TaxpayerStory:
    """The taxpayer's open tasks (soonest due first) and most recent cases, for the clerk
    serving them, so nobody asks the taxpayer twice.

    The taxpayer standing at the counter is the clerk's business whichever hall accepted
    their earlier cases: the summary (numbers, items, states, dates, halls) is shown in
    full; a case page opens only where the clerk's visibility includes it
    (`visible_case_ids`), as everywhere else.
    """
    tasks = Task.objects.filter(taxpayer_id=taxpayer_id, state__in=OPEN_STATES)
    cases = Case.objects.filter(taxpayer_id=taxpayer_id)
    recent = list(
        cases.select_related("hall", "accepted_by")
        .annotate(task_count=Count("tasks", distinct=True))
        .order_by("-created_at", "-id")[:limit]
    )
    visible = case_list_for_staff(staff=staff).filter(pk__in=[case.pk for case in recent]).values_list("pk", flat=True)
    open_tasks = list(tasks.select_related("item", "team", "assignee", "case").order_by("due_at", "id")[:limit])
    return TaxpayerStory(
        open_tasks=open_tasks,
        recent_cases=recent,
        open_count=tasks.count(),
        case_count=cases.count(),
        visible_case_ids=frozenset(visible),
    )


def task_comments(*, task: Task) -> list[TaskComment]:
    """The task's notes, oldest first, with their authors and the people they mention."""
    return list(
        TaskComment.objects.filter(task=task)
        .select_related("author")
        .prefetch_related("mentions")
        .order_by("created_at", "id")
    )


def delegations_for_staff(*, staff: Staff) -> QuerySet[Delegation]:
    """The delegations the staff member gave or holds (administrators: every one), the
    latest first, with both names."""
    rows = Delegation.objects.select_related("chief", "deputy", "created_by", "revoked_by").order_by(
        "-starts_at", "-id"
    )
    return rows if access.is_admin(staff) else rows.filter(Q(chief=staff) | Q(deputy=staff))
