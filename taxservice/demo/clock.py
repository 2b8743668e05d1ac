"""Working time for plausible histories: the product's own working-day calendar
(`taxservice.workdays.calendar`: holidays, 调休 and office hours), so the demo's histories
fall where the clocks and the ladder count them."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from unittest import mock

from django.utils import timezone as django_timezone

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


class DemoClock:
    """The time the demo's history is at: while `running()`, Django's `timezone.now()` (so
    every service, field default and `auto_now`) answers `moment`, so the rows a service
    writes carry their place in the history from the start: nothing is re-dated afterwards
    (the audit tables refuse that, docs/audit.md). `moment` None is the real time."""

    def __init__(self) -> None:
        self.moment: dt.datetime | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[DemoClock]:
        clock = self

        class _Datetime(dt.datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                if clock.moment is None:
                    return dt.datetime.now(tz)
                return clock.moment.astimezone(tz) if tz is not None else clock.moment.replace(tzinfo=None)

        # django.utils.timezone.now() reads the module's `datetime`: one patch reaches every caller.
        with mock.patch.object(django_timezone, "datetime", _Datetime):
            yield self

    @contextlib.contextmanager
    def at(self, moment: dt.datetime) -> Iterator[DemoClock]:
        """Run the block at `moment` (then back to where the clock was)."""
        before = self.moment
        self.moment = moment
        try:
            with self.running():
                yield self
        finally:
            self.moment = before
