"""A working-hours clock for plausible histories: 08:30 to the close of business on working days.

Which days are working days, and when business closes, come from the workflow's calendar
(`taxservice.workflow.cases.calendar`), so a holiday calendar there reaches the demo too.
"""

from __future__ import annotations

import datetime as dt

from taxservice.workflow.cases.calendar import CLOSE_OF_BUSINESS, is_working_day

DAY_START = dt.time(8, 30)
DAY_END = CLOSE_OF_BUSINESS


def _at(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz)


def snap_forward(moment: dt.datetime) -> dt.datetime:
    """The first working instant at or after `moment`."""
    tz = moment.tzinfo
    day = moment.date()
    if is_working_day(day) and moment.time() < DAY_END:
        return max(moment, _at(day, DAY_START, tz))
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return _at(day, DAY_START, tz)


def snap_backward(moment: dt.datetime) -> dt.datetime:
    """The last working instant at or before `moment`."""
    tz = moment.tzinfo
    day = moment.date()
    if is_working_day(day) and moment.time() > DAY_START:
        return min(moment, _at(day, DAY_END, tz))
    day -= dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return _at(day, DAY_END, tz)


def advance(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` plus `minutes` of working time."""
    current = snap_forward(moment)
    remaining = dt.timedelta(minutes=minutes)
    while True:
        left_today = _at(current.date(), DAY_END, current.tzinfo) - current
        if remaining <= left_today:
            return current + remaining
        remaining -= left_today
        current = snap_forward(_at(current.date(), DAY_END, current.tzinfo))


def retreat(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` minus `minutes` of working time."""
    current = snap_backward(moment)
    remaining = dt.timedelta(minutes=minutes)
    while True:
        used_today = current - _at(current.date(), DAY_START, current.tzinfo)
        if remaining <= used_today:
            return current - remaining
        remaining -= used_today
        current = snap_backward(_at(current.date(), DAY_START, current.tzinfo))


def working_minutes(start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes between two instants (0 when `end` is not after `start`)."""
    current = snap_forward(start)
    total = dt.timedelta(0)
    while current < end:
        day_end = _at(current.date(), DAY_END, current.tzinfo)
        total += min(day_end, end) - current
        current = snap_forward(day_end)
    return max(total.total_seconds() / 60, 0.0)
