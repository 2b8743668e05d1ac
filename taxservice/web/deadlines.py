"""Countdowns for people: a task's time left in working days, hours and minutes, in words.

The figures come from `clocks` (the stored columns for lists, the derived clocks for the
task page); this module only says them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import ClockName, Task

CLOCK_LABELS = {
    clocks.PROMISE: gettext_lazy("Promise to the taxpayer"),
    **dict(ClockName.choices),
}


def duration(seconds: int, cal: WorkCalendar) -> str:
    """ "2 working days 3 h", "3 h 20 min", "12 min": working time, largest units first."""
    days, hours, minutes = clocks.split_seconds(seconds, cal)
    parts = []
    if days:
        parts.append(ngettext("%(n)d working day", "%(n)d working days", days) % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if not days and (minutes or not hours):
        parts.append(_("%(n)d min") % {"n": minutes})
    return " ".join(parts)


def countdown(status: str, seconds: int, cal: WorkCalendar) -> str:
    if status == "overdue":
        return _("overdue by %(time)s") % {"time": duration(seconds, cal)}
    if status == "paused":
        return _("paused, %(time)s left") % {"time": duration(seconds, cal)}
    if status == "stopped":
        return _("stopped")
    return _("%(time)s left") % {"time": duration(seconds, cal)}


@dataclass(frozen=True)
class Deadline:
    """What a list's "time left" cell shows for one task."""

    status: str
    due_at: dt.datetime
    text: str
    clock_label: str = ""
    clock_status: str = ""
    clock_text: str = ""
    clock_due_at: dt.datetime | None = None


def deadline(task: Task, cal: WorkCalendar, now: dt.datetime) -> Deadline:
    seen = clocks.glance(task, cal, now)
    if not seen.clock_status:
        return Deadline(seen.status, seen.due_at, countdown(seen.status, seen.left_seconds, cal))
    return Deadline(
        seen.status,
        seen.due_at,
        countdown(seen.status, seen.left_seconds, cal),
        str(CLOCK_LABELS[seen.clock]),
        seen.clock_status,
        countdown(seen.clock_status, seen.clock_left_seconds, cal),
        seen.clock_due_at,
    )


def attach_deadlines(tasks: list[Task], cal: WorkCalendar | None = None) -> list[Task]:
    """Give each task `deadline` (and `overdue`, as before) for the lists: one calendar read."""
    cal = cal or WorkCalendar.load()
    now = timezone.now()
    for task in tasks:
        found = deadline(task, cal, now)
        setattr(task, "deadline", found)  # noqa: B010 (a display attribute for the templates)
        setattr(task, "overdue", found.status == "overdue")  # noqa: B010
    return tasks


@dataclass(frozen=True)
class ClockRow:
    label: str
    started_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None
    status: str
    text: str


def clock_rows(task: Task, cal: WorkCalendar | None = None) -> list[ClockRow]:
    """The task page's clocks: the promise and each internal clock that has started."""
    cal = cal or WorkCalendar.load()
    now = timezone.now()
    derived = clocks.for_task(task, cal)
    rows = []
    for clock in (derived.promise, *derived.internal()):
        status = clock.status(cal, now)
        if status in ("met", "late"):
            text = (
                _("kept")
                if status == "met"
                else _("late by %(time)s")
                % {"time": duration(cal.working_seconds_between(clock.due_at, clock.stopped_at or now), cal)}
            )
        else:
            text = countdown(status, clock.remaining_seconds(cal, now), cal)
        rows.append(
            ClockRow(str(CLOCK_LABELS[clock.name]), clock.started_at, clock.due_at, clock.stopped_at, status, text)
        )
    return rows
