"""Reads of the closing loop, scoped to what the staff member may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from taxservice import access
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Case, Task, TaskAssignment, TaskState, TaskTransition
from taxservice.workflow.cases.selectors import TASK_RELATED, case_list_for_staff, task_list_for_staff
from taxservice.workflow.quality.models import (
    RECTIFICATION_ITEM,
    CaseRating,
    Inspection,
    Rectification,
    ReturnVisit,
    SampledTask,
)

# The steps whose actor did the work, for a task nobody was assigned (handled on the spot).
WORK_STEPS = ("handle_on_spot", "complete", "submit_for_approval", "accept")


# --- feedback ---------------------------------------------------------------------------------


def feedback_worklist(*, staff: Staff) -> QuerySet[Task]:
    """Finished tasks (done) waiting for feedback to the taxpayer that `staff` may see,
    the longest waiting first (`done_at`: when the task was done)."""
    done_at = (
        TaskTransition.objects.filter(task=OuterRef("pk"), to_state=TaskState.DONE).order_by("-at", "-id").values("at")
    )
    tasks = task_list_for_staff(staff=staff).filter(state=TaskState.DONE)
    return tasks.annotate(done_at=Subquery(done_at[:1])).order_by("done_at", "id")


# --- ratings and return visits -----------------------------------------------------------------


def case_for_staff(*, staff: Staff, case_id: int) -> Case | None:
    return case_list_for_staff(staff=staff).filter(pk=case_id).first()


def case_rating(*, case: Case) -> CaseRating | None:
    return CaseRating.objects.select_related("recorded_by").filter(case=case).first()


def case_ratable(*, case: Case) -> bool:
    """A case is rated once a task of it has been given feedback or closed, and only once."""
    return case.tasks.filter(state=TaskState.CLOSED).exists() and not CaseRating.objects.filter(case=case).exists()


def return_visits(*, case: Case) -> QuerySet[ReturnVisit]:
    return ReturnVisit.objects.select_related("visited_by").filter(case=case).order_by("-visited_at", "-id")


# --- who handled a task ----------------------------------------------------------------------------


def last_handler(task: Task) -> Staff | None:
    """The last person who held the task (TaskAssignment), or, for a task nobody was
    assigned, the last person who worked it (its log)."""
    assignment = TaskAssignment.objects.select_related("staff").filter(task=task).order_by("-assigned_at", "-id")
    found = assignment.first()
    if found is not None:
        return found.staff
    log = (
        TaskTransition.objects.select_related("actor")
        .filter(task=task, actor__isnull=False, transition__in=WORK_STEPS)
        .order_by("-at", "-id")
        .first()
    )
    return log.actor if log is not None else None


def main_task_and_handler(case: Case) -> tuple[Task, Staff]:
    """The case's main task (its first task someone handled, else its first task) and that
    task's handler (the clerk who accepted the case when nobody else handled it)."""
    tasks = list(case.tasks.select_related("taxpayer", "team").exclude(state=TaskState.CANCELLED).order_by("id"))
    tasks = tasks or list(case.tasks.select_related("taxpayer", "team").order_by("id"))
    for task in tasks:
        handler = last_handler(task)
        if handler is not None:
            return task, handler
    return tasks[0], case.accepted_by


# --- the inspection sample ------------------------------------------------------------------------


def week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=7)


def closed_in_week(week_start: dt.date) -> list[int]:
    """The ids of the tasks closed in the week (by their log, local time), rectification
    tasks left out, in ascending order."""
    start, end = week_bounds(week_start)
    closed = TaskTransition.objects.filter(to_state=TaskState.CLOSED, at__gte=start, at__lt=end).values("task_id")
    return list(
        Task.objects.filter(pk__in=closed, state=TaskState.CLOSED)
        .exclude(item__code=RECTIFICATION_ITEM)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def inspection_list() -> QuerySet[Inspection]:
    return (
        Inspection.objects.select_related("drawn_by")
        .annotate(
            sampled=Count("sample", distinct=True),
            scored=Count("sample__result", distinct=True),
            failed=Count("sample__result", filter=Q(sample__result__passed=False), distinct=True),
        )
        .order_by("-week_start")
    )


def inspection_get(*, inspection_id: int) -> Inspection | None:
    sample = SampledTask.objects.select_related(
        *(f"task__{name}" for name in TASK_RELATED),
        "result__inspector",
        "result__rectification__task",
        "result__rectification__responsible",
    ).order_by("position")
    return inspection_list().prefetch_related(Prefetch("sample", queryset=sample)).filter(pk=inspection_id).first()


# --- rectifications -------------------------------------------------------------------------------


def rectification_list_for_staff(*, staff: Staff, state: str = "") -> QuerySet[Rectification]:
    """The rectifications whose task `staff` may see, the newest first; `state` narrows to
    the task's state (`open` for every open state)."""
    qs = Rectification.objects.select_related(
        "task__item",
        "task__team",
        "task__assignee",
        "responsible",
        "rating__case",
        "inspection_result__sampled__inspection",
        "concerning",
    ).order_by("-opened_at", "-id")
    visibility = access.visible_tasks_q(staff)
    if visibility is not None:
        qs = qs.filter(task__in=task_list_for_staff(staff=staff).values("pk"))
    if state == "open":
        qs = qs.exclude(task__state__in=[TaskState.CLOSED, TaskState.CANCELLED, TaskState.DONE])
    elif state:
        qs = qs.filter(task__state=state)
    return qs
