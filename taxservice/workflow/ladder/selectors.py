"""The escalation ladder's reads: the public notice list (通报)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from taxservice.access import visible_tasks_q
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import OPEN_STATES, Task
from taxservice.workflow.ladder.models import Action, Escalation, Watch

NOTICE_RELATED = ("item", "taxpayer", "team", "assignee")


def _notices() -> QuerySet[Escalation]:
    return Escalation.objects.filter(task=OuterRef("pk"), step__action=Action.NOTICE)


def notice_list() -> QuerySet[Task]:
    """Open tasks with a notice (通报) sent for their current due time, the longest overdue
    first. A task leaves the list when it closes or its due time moves (an extension)."""
    promise = _notices().filter(step__watch=Watch.PROMISE, due_at=OuterRef("due_at"))
    running = _notices().filter(step__watch=Watch.RUNNING, due_at=OuterRef("clock_due_at"))
    noticed_at = _notices().filter(
        Q(step__watch=Watch.PROMISE, due_at=OuterRef("due_at"))
        | Q(step__watch=Watch.RUNNING, due_at=OuterRef("clock_due_at"))
    )
    return (
        Task.objects.filter(state__in=OPEN_STATES)
        .filter(Exists(promise) | Exists(running))
        .annotate(noticed_at=Subquery(noticed_at.order_by("sent_at", "id").values("sent_at")[:1]))
        .select_related(*NOTICE_RELATED)
        .order_by("due_at", "id")
    )


def notice_list_for_staff(*, staff: Staff) -> QuerySet[Task]:
    """The notice list, limited to the tasks `staff` may see (access.visible_tasks_q)."""
    tasks = notice_list()
    q = visible_tasks_q(staff)
    return tasks if q is None else tasks.filter(q)
