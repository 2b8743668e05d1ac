"""What every page's top bar needs besides the navigation (org.context_processors)."""

from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest

from taxservice.org.models import Staff
from taxservice.org.selectors import staff_for_user
from taxservice.workflow.cases.inbox import notification_unread_count


class InboxBadge:
    """The top bar's inbox link. `unread` is one COUNT, run only when a template reads
    it, and at most once per request: htmx fragments without the top bar pay nothing."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff

    @cached_property
    def unread(self) -> int:
        return notification_unread_count(staff=self.staff)


def inbox_unread(request: HttpRequest) -> dict:
    """`inbox`: the signed-in staff member's inbox badge, or None without a staff record."""
    staff = staff_for_user(getattr(request, "user", None))
    return {"inbox": InboxBadge(staff) if staff is not None else None}
