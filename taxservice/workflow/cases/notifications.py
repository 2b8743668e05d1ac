"""Notifications that follow transitions and notes: whom to tell, and what."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from taxservice.workflow.cases.models import Notification, TaskComment, TaskTransition
from taxservice.workflow.cases.transitions import TRANSITIONS
from taxservice.workflow.sql import insert_rows

# What each transition tells the task's assignee, if anything: the specs' `notify`.
_MESSAGES = {name: spec.notify for name, spec in TRANSITIONS.items() if spec.notify}


def notify_for_transition(*, transition_id: int) -> int:
    """Idempotent: a second call for the same transition writes nothing. The text is in
    the bureau's language (LANGUAGE_CODE), whatever the language of the request that
    made the step (in the embedded setup this runs in that request's thread)."""
    log = TaskTransition.objects.select_related("task__item", "task__assignee").filter(pk=transition_id).first()
    if log is None or log.transition not in _MESSAGES or log.task.assignee_id is None:
        return 0
    with translation.override(settings.LANGUAGE_CODE):  # the bureau's language, as notify_assigned
        message = _message(log)
    try:
        with transaction.atomic():
            Notification.objects.create(
                recipient_id=log.task.assignee_id, task=log.task, transition=log, message=message
            )
    except IntegrityError:
        return 0
    return 1


def notify_assigned(rows: list[tuple[int, int, int, str]], *, now) -> None:
    """Tell each new assignee, in the caller's transaction: rows are (staff, task, transition, item name).

    The dispatcher's set-based path (`cases.assignments.tasks_assign_bulk`): one insert for
    the batch, committed or rolled back with the assignments themselves. The text is in
    the bureau's language (LANGUAGE_CODE), as a Celery worker would write it, whatever
    the language of the request that dispatched.
    """
    if not rows:
        return
    with translation.override(settings.LANGUAGE_CODE):
        template = _(_MESSAGES["assign"])  # translated once, not per row
    insert_rows(
        Notification,
        ("recipient_id", "task_id", "transition_id", "message", "created_at", "read_at"),
        [
            (staff_id, task_id, transition_id, _format(template, task=task_id, item=item_name, reason=""), now, None)
            for staff_id, task_id, transition_id, item_name in rows
        ],
        returning=False,
    )


def notify_mentioned(*, comment: TaskComment, recipients: list) -> None:  # recipients: Staff
    """Tell the people a note mentions, in the note's transaction (they commit together).
    The text is in the bureau's language, like every notification."""
    with translation.override(settings.LANGUAGE_CODE):
        template = _("%(author)s mentioned you on task T%(task)s (%(item)s): %(text)s")
    values = {
        "author": comment.author.name,
        "task": comment.task_id,
        "item": comment.task.item.name,
        "text": comment.body,
    }
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=person,
                task_id=comment.task_id,
                comment=comment,
                created_at=comment.created_at,
                message=(template % values)[:200],
            )
            for person in recipients
        ]
    )


def _text(name: str, *, task: int, item: str, reason: str) -> str:
    return _format(_(_MESSAGES[name]), task=task, item=item, reason=reason)


def _format(template: str, *, task: int, item: str, reason: str) -> str:
    return (template % {"task": task, "item": item, "reason": reason})[:200]


def _message(log: TaskTransition) -> str:
    return _text(log.transition, task=log.task_id, item=log.task.item.name, reason=log.reason)
