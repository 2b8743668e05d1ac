"""A staff member's inbox: the notifications written for them, read and marked read.

Reads and writes live together here because they are few and share one rule: a
notification belongs to its recipient alone. Anyone else asking about it is told it does
not exist (`NotFound`, not `ActionForbidden`), so notification ids reveal nothing.
Notifications themselves are written by `cases.notifications` after a transition.
"""

from __future__ import annotations

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice.errors import NotFound
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Notification


def notification_list_for_staff(*, staff: Staff, unread_only: bool = False) -> QuerySet[Notification]:
    """The staff member's own notifications, newest first, each with `transition_name`
    (the step that caused it, e.g. "assign", or "note" for a note that mentions them)."""
    qs = (
        Notification.objects.filter(recipient=staff)
        .annotate(transition_name=Coalesce(F("transition__transition"), Value("note")))
        .order_by("-created_at", "-id")
    )
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_unread_count(*, staff: Staff) -> int:
    """One COUNT over the recipient's unread rows: the navigation asks on every page."""
    return Notification.objects.filter(recipient=staff, read_at__isnull=True).count()


def notification_mark_read(*, staff: Staff, notification_id: int) -> Notification:
    """Mark one of the staff member's notifications read and return it.

    Idempotent: a notification already read keeps its first `read_at`. Raises `NotFound`
    for an id that does not exist or belongs to someone else, and then writes nothing.
    """
    mine = Notification.objects.filter(pk=notification_id, recipient=staff)
    # One guarded UPDATE: two tabs marking the same row cannot move read_at twice.
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    notification = notification_list_for_staff(staff=staff).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound(_("No such notification %(id)s.") % {"id": notification_id})
    return notification


def notification_mark_all_read(*, staff: Staff) -> int:
    """Mark every unread notification of the staff member read; returns how many were unread."""
    return Notification.objects.filter(recipient=staff, read_at__isnull=True).update(read_at=timezone.now())
