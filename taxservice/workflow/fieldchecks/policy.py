"""Who may record a field check on a task (pure: the loaded task, the staff member's cached
roles, teams and branch scope).

Those who work the task: its holder, and the supervisors (coordinators, branch chiefs)
who see it and may step in for the holder (`access.is_supervisor`, as for the task's
transitions in `cases.policy`); administrators anywhere. Seeing a check and its
attachments follows seeing the task (`access.can_see_task`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from taxservice import access
from taxservice.org.models import Staff

RECORD_REFUSAL = _("Only the task's assignee and supervisors record field checks.")


def may_record(staff: Staff, task: Any) -> bool:
    """Whether `staff` may record a field check on `task` (a loaded Task)."""
    if access.is_admin(staff):
        return True
    if not access.can_see_task(staff, task):
        return False
    return task.assignee_id == staff.pk or access.is_supervisor(staff)


def may_go(staff: Staff, task: Any) -> bool:
    """Whether `staff` may be named among those who went: someone who sees the task."""
    return access.can_see_task(staff, task)
