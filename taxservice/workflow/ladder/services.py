"""The escalation ladder's writes: the scan, and an administrator's edit of a step.

**When a step is due.** A step with offset N (working days) is due for a task on the
Nth working day after the local date of the watched due time (before it, for a negative
N; on that date for 0), from the first scan of that day. So with the shipped steps a
task due on Friday at 17:30 is reminded on Thursday, urged (催办) on Monday, supervised
(督办) on Wednesday and put on the notice list (通报) the Friday after. Because the
calendar's arithmetic only moves forward with the date, "due for the step today" is one
condition on the due time, `due < threshold`, computed once per step and scan
(`step_window`), and the scan is one set-based statement per step
(`taxservice.workflow.sql.ladder_escalate`). Steps before the due time (N <= 0) skip
tasks already past it: those have the steps after it coming.

**Idempotent.** Each (task, step, due time) is sent at most once (the `escalation_once`
constraint, `ON CONFLICT DO NOTHING`); a scan that finds nothing new writes nothing, and
two scans at once send each step once. A due time moved by an extension, by materials
received or by a recomputation is a new key: the ladder starts again for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from taxservice.org.models import Branch, Role, Staff
from taxservice.workdays.calendar import MAX_DAYS_WITHOUT_WORK, WorkCalendar
from taxservice.workflow import sql
from taxservice.workflow.ladder.messages import ladder_templates
from taxservice.workflow.ladder.models import EscalationStep, EscalationStepChange

# What an EscalationStepChange records of a step.
STEP_FIELDS = ["code", "name", "action", "watch", "offset_days", "to_assignee", "to_chiefs", "active", "order"]


@dataclass
class ScanResult:
    scan: uuid.UUID
    at: dt.datetime
    sent: int = 0  # escalations created, every step together
    notified: int = 0  # notifications written
    by_step: dict[str, int] = field(default_factory=dict)


def step_window(*, offset_days: int, now: dt.datetime, cal: WorkCalendar) -> tuple[dt.datetime | None, dt.datetime]:
    """(after, before): a task is due for a step with this offset iff after < due < before.

    `before` is the midnight after the last date whose Nth working day is today or earlier;
    `after` is `now` for the steps before the due time, None for the others.
    """
    today = timezone.localtime(now, cal.tz).date()
    one = dt.timedelta(days=1)
    last = cal.add_working_days(today, -offset_days)
    # The calendar is not always invertible (today may be a rest day; several dates share
    # an Nth working day): step to the last date d whose Nth working day is <= today.
    for _ in range(MAX_DAYS_WITHOUT_WORK):
        if cal.add_working_days(last, offset_days) <= today:
            break
        last -= one
    for _ in range(MAX_DAYS_WITHOUT_WORK):
        if cal.add_working_days(last + one, offset_days) > today:
            break
        last += one
    before = timezone.make_aware(dt.datetime.combine(last + one, dt.time.min), cal.tz)
    return (now if offset_days <= 0 else None), before


def branch_chiefs() -> list[tuple[int, int]]:
    """(branch id, staff id) for every branch and the chiefs who answer for its tasks.

    A branch's chiefs are the branch chiefs whose home branch it is; a branch without one
    is answered for by the chiefs of its parent. Both see the branch's tasks
    (access.staff_branch_scope: home branch and the branches directly under it).
    """
    at: dict[int, list[int]] = {}
    for staff_id, branch_id in (
        Staff.objects.filter(role_rows__role=Role.BRANCH_CHIEF).order_by("pk").values_list("pk", "home_branch_id")
    ):
        at.setdefault(branch_id, []).append(staff_id)
    pairs: list[tuple[int, int]] = []
    for branch_id, parent_id in Branch.objects.values_list("pk", "parent_id"):
        chiefs = at.get(branch_id) or (at.get(parent_id, []) if parent_id is not None else [])
        pairs += [(branch_id, staff_id) for staff_id in chiefs]
    return pairs


def ladder_scan(*, now: dt.datetime | None = None) -> ScanResult:
    """Send every active step that is due and not sent yet, in one transaction.

    Set-based: one statement per step on PostgreSQL, whatever the number of tasks. Safe
    to run again, or on two workers at once (module docstring).
    """
    now = now or timezone.now()
    cal = WorkCalendar.load()
    result = ScanResult(scan=uuid.uuid4(), at=now)
    templates = ladder_templates()
    chiefs = branch_chiefs()
    with transaction.atomic():
        for step in EscalationStep.objects.filter(active=True).order_by("order", "id"):
            after, before = step_window(offset_days=step.offset_days, now=now, cal=cal)
            created, notified = sql.ladder_escalate(
                step=step,
                due_before=before,
                due_after=after,
                chiefs=chiefs,
                message=templates[step.action],
                scan=result.scan,
                now=now,
            )
            result.by_step[step.code] = created
            result.sent += created
            result.notified += notified
    return result


def escalation_step_save(*, actor: Staff | None, step: EscalationStep) -> EscalationStep:
    """Save an administrator's edit of a step (new or changed) with its change row, together.

    `actor` None is the system (or an administrator account without a staff record).
    """
    step.full_clean()
    with transaction.atomic():
        before = None
        if step.pk is not None:
            old = EscalationStep.objects.select_for_update().filter(pk=step.pk).first()
            before = model_to_dict(old, fields=STEP_FIELDS) if old is not None else None
        step.save()
        after = model_to_dict(step, fields=STEP_FIELDS)
        if after != before:
            EscalationStepChange.objects.create(step=step, changed_by=actor, before=before, after=after)
    return step
