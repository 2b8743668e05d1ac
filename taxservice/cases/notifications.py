"""Notifications that follow transitions: whom to tell, and what."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from taxservice import bulk  # noqa: F401 - registers the in_ids lookup
from taxservice.bulk import insert_rows
from taxservice.cases.models import Notification, TaskTransition

# Transitions that tell the assignee something, and what.
_MESSAGES = {
    "assign": gettext_noop("Task T%(task)s (%(item)s) was assigned to you."),
    "reject": gettext_noop("Task T%(task)s (%(item)s) was sent back by the approver: %(reason)s"),
    "approve": gettext_noop("Task T%(task)s (%(item)s) was approved."),
}


def notify_for_transition(*, transition_id: int) -> int:
    """Idempotent: a second call for the same transition writes nothing."""
    log = TaskTransition.objects.select_related("task__item", "task__assignee").filter(pk=transition_id).first()
    if log is None or log.transition not in _MESSAGES or log.task.assignee_id is None:
        return 0
    try:
        with transaction.atomic():
            Notification.objects.create(
                recipient_id=log.task.assignee_id, task=log.task, transition=log, message=_message(log)
            )
    except IntegrityError:
        return 0
    return 1


def notify_for_transitions(*, transition_ids: list[int]) -> int:
    """The set-based form for the dispatcher: one read, one insert. Idempotent too.

    Returns how many notifications the transitions call for (written now or before).
    """
    # By primary key only: a filter on the task's columns here made PostgreSQL pick a plan
    # that walks every assigned task once the table grows (see bench/README.md).
    logs = TaskTransition.objects.filter(pk__in_ids=transition_ids).values_list(
        "pk", "task_id", "transition", "reason", "task__assignee_id", "task__item__name"
    )
    now = timezone.now()
    templates = {name: _(message) for name, message in _MESSAGES.items()}  # translated once, not per row
    rows = [
        (assignee_id, task_id, pk, _format(templates[name], task=task_id, item=item_name, reason=reason), now, None)
        for pk, task_id, name, reason, assignee_id, item_name in logs
        if name in templates and assignee_id is not None
    ]
    if not rows:
        return 0
    columns = ("recipient_id", "task_id", "transition_id", "message", "created_at", "read_at")
    try:
        with transaction.atomic():
            insert_rows(Notification, columns, rows, returning=False)
    except IntegrityError:
        # A retry after a partial failure: write only what is missing.
        already = set(
            Notification.objects.filter(transition_id__in_ids=[row[2] for row in rows]).values_list("transition_id", flat=True)
        )
        insert_rows(Notification, columns, [row for row in rows if row[2] not in already], returning=False)
    return len(rows)


def _text(name: str, *, task: int, item: str, reason: str) -> str:
    return _format(_(_MESSAGES[name]), task=task, item=item, reason=reason)


def _format(template: str, *, task: int, item: str, reason: str) -> str:
    return (template % {"task": task, "item": item, "reason": reason})[:200]


def _message(log: TaskTransition) -> str:
    return _text(log.transition, task=log.task_id, item=log.task.item.name, reason=log.reason)
