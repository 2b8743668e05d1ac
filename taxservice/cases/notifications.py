"""Notifications that follow transitions: whom to tell, and what."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

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
    logs = TaskTransition.objects.select_related("task__item").filter(pk__in=transition_ids)
    rows = [
        Notification(recipient_id=log.task.assignee_id, task_id=log.task_id, transition=log, message=_message(log))
        for log in logs
        if log.transition in _MESSAGES and log.task.assignee_id is not None
    ]
    # Rows that already exist (a retried task) are skipped by the unique constraint.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _message(log: TaskTransition) -> str:
    text = _(_MESSAGES[log.transition]) % {"task": log.task_id, "item": log.task.item.name, "reason": log.reason}
    return text[:200]
