"""Reads on field checks, scoped to the tasks the staff member may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Task
from taxservice.workflow.cases.selectors import task_list_for_staff
from taxservice.workflow.fieldchecks.models import FieldCheck, FieldCheckAttachment


def field_check_list(*, task: Task | int) -> QuerySet[FieldCheck]:
    """A task's field checks, newest first, with who went and the attachments.

    The caller has checked that the task is visible (`task_get_for_staff`)."""
    task_id = task if isinstance(task, int) else task.pk
    return (
        FieldCheck.objects.filter(task_id=task_id)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("staff", queryset=Staff.objects.order_by("name", "pk")),
            Prefetch("attachments", queryset=FieldCheckAttachment.objects.order_by("pk")),
        )
        .order_by("-recorded_at", "-id")
    )


def field_check_list_for_staff(*, staff: Staff, task_id: int) -> QuerySet[FieldCheck] | None:
    """The field checks of task `task_id`, or None when the task is not one `staff` sees."""
    if not task_list_for_staff(staff=staff).filter(pk=task_id).exists():
        return None
    return field_check_list(task=task_id)


def attachment_get_for_staff(*, staff: Staff, attachment_id: int) -> FieldCheckAttachment | None:
    """The attachment, or None when there is none or its task is not one `staff` sees
    (the same answer, so a download never tells another branch that a file exists)."""
    visible = task_list_for_staff(staff=staff).order_by().values("pk")
    return (
        FieldCheckAttachment.objects.select_related("field_check")
        .filter(pk=attachment_id, field_check__task__in=visible)
        .first()
    )


def companion_choices(*, task: Task, actor: Staff) -> list[Staff]:
    """Whom the form offers as having gone: the task team's members, its assignee and the
    actor, by name (the service accepts anyone who sees the task)."""
    people = Q(pk__in=[pk for pk in (task.assignee_id, actor.pk) if pk is not None])
    if task.team_id is not None:
        people |= Q(teams=task.team_id)
    return list(Staff.objects.filter(people).distinct().order_by("name", "pk"))
