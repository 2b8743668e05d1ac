"""Working time for plausible histories: the product's own working-day calendar
(`taxservice.workdays.calendar`: holidays, 调休 and office hours), so the demo's histories
fall where the clocks and the ladder count them."""

from __future__ import annotations

import datetime as dt
import functools

from taxservice.workdays.calendar import WorkCalendar


@functools.cache
def _calendar() -> WorkCalendar:
    # The demo runs once in a process; overrides entered later are read by the product.
    return WorkCalendar.load()


def snap_forward(moment: dt.datetime) -> dt.datetime:
    """The first working instant at or after `moment`."""
    cal = _calendar()
    if cal.is_working_time(moment):
        return moment
    return cal.add_working_seconds(cal.add_working_seconds(moment, 1), -1)


def advance(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` plus `minutes` of working time."""
    return _calendar().add_working_seconds(snap_forward(moment), minutes * 60)


def retreat(moment: dt.datetime, minutes: float) -> dt.datetime:
    """`moment` minus `minutes` of working time."""
    return _calendar().add_working_seconds(moment, -minutes * 60)


def working_minutes(start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes between two instants (0 when `end` is not after `start`)."""
    return max(_calendar().working_seconds_between(start, end) / 60, 0.0)
