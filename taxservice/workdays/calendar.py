"""One working-day calendar for the whole product: due times, the dispatch on-duty filter,
the clocks, the escalation ladder, the demo and the metrics all ask it.

A day's kind comes from, in order:
1. an administrator's override row (`CalendarOverride`);
2. the `chinese-calendar` package, for the years it covers: public holidays and the
   adjusted working weekends (调休);
3. the weekday: Monday to Friday work, Saturday and Sunday rest.

Working time is the office hours (settings.TAXSERVICE_OFFICE_HOURS, "09:00-17:30" by
default) of working days. A limit "in N working days" ends at the close of business of
the Nth working day after the start's day; a limit in hours counts working hours.

`WorkCalendar.load()` reads the override rows once (a handful a year); an operation
builds one calendar and asks it as often as it likes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import chinese_calendar  # type: ignore[import-untyped]
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.workdays.models import WORKING_KINDS, CalendarOverride, DayKind

# Names the package gives its holidays, in English; shown translated.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("Anti-Fascist 70th Day"),
}

# The longest run of days without work the arithmetic walks before it gives up: a
# calendar with no working day at all in a year is a data error, not an endless loop.
MAX_DAYS_WITHOUT_WORK = 366


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: str
    name: str
    source: str  # "override" | "package" | "weekday"

    @property
    def is_working(self) -> bool:
        return self.kind in WORKING_KINDS


def office_hours() -> tuple[dt.time, dt.time]:
    raw = getattr(settings, "TAXSERVICE_OFFICE_HOURS", "") or "09:00-17:30"
    start, end = raw.split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


@functools.lru_cache(maxsize=64)
def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_holiday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _package_day(day: dt.date) -> tuple[str, str, str]:
    weekend = day.weekday() >= 5
    if not package_covers(day.year):
        return (DayKind.WEEKEND if weekend else DayKind.WORKDAY), "", "weekday"
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    name = name or ""
    if is_holiday:
        return (DayKind.HOLIDAY if name else DayKind.WEEKEND), name, "package"
    if weekend:
        return DayKind.ADJUSTED_WORKDAY, name, "package"
    return DayKind.WORKDAY, "", "package"


class WorkCalendar:
    def __init__(
        self, overrides: dict[dt.date, tuple[str, str]] | None = None, hours: tuple[dt.time, dt.time] | None = None
    ) -> None:
        self.overrides = overrides or {}
        self.opens: dt.time
        self.closes: dt.time
        self.opens, self.closes = hours or office_hours()
        if self.closes <= self.opens:
            raise CalendarError("office hours must open before they close")
        self.tz = timezone.get_current_timezone()
        self.seconds_per_day = int(
            (
                dt.datetime.combine(dt.date.min, self.closes) - dt.datetime.combine(dt.date.min, self.opens)
            ).total_seconds()
        )

    @classmethod
    def load(cls) -> WorkCalendar:
        rows = CalendarOverride.objects.values_list("date", "kind", "name")
        return cls({date: (kind, name) for date, kind, name in rows})

    # --- days -------------------------------------------------------------------------

    def day(self, date: dt.date) -> Day:
        if date in self.overrides:
            kind, name = self.overrides[date]
            return Day(date, kind, name, "override")
        kind, name, source = _package_day(date)
        return Day(date, kind, name, source)

    def days(self, start: dt.date, end: dt.date) -> Iterator[Day]:
        current = start
        while current <= end:
            yield self.day(current)
            current += dt.timedelta(days=1)

    def is_working_day(self, date: dt.date) -> bool:
        if date in self.overrides:
            return self.overrides[date][0] in WORKING_KINDS
        return _package_day(date)[0] in WORKING_KINDS

    def add_working_days(self, date: dt.date, days: int) -> dt.date:
        """The `days`th working day after `date` (before it, for a negative count); 0 keeps it."""
        step = dt.timedelta(days=1 if days >= 0 else -1)
        remaining = abs(days)
        current = date
        idle = 0
        while remaining > 0:
            current += step
            if self.is_working_day(current):
                remaining -= 1
                idle = 0
            else:
                idle += 1
                if idle > MAX_DAYS_WITHOUT_WORK:
                    raise CalendarError(f"no working day within {MAX_DAYS_WITHOUT_WORK} days of {current}")
        return current

    # --- instants ---------------------------------------------------------------------

    def _at(self, date: dt.date, time: dt.time) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(date, time), self.tz)

    def close_of_business(self, date: dt.date) -> dt.datetime:
        return self._at(date, self.closes)

    def is_working_time(self, moment: dt.datetime) -> bool:
        local = timezone.localtime(moment, self.tz)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def due_in_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Due at the close of business of the `days`th working day after `start`'s day.
        A limit of 0 means on the spot: due at `start`."""
        if days <= 0:
            return start
        local = timezone.localtime(start, self.tz)
        return self.close_of_business(self.add_working_days(local.date(), days))

    def due_in_hours(self, start: dt.datetime, hours: int) -> dt.datetime:
        if hours <= 0:
            return start
        return self.add_working_seconds(start, hours * 3600)

    def shift_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same time of day, `days` working days later (earlier when negative)."""
        local = timezone.localtime(moment, self.tz)
        return self._at(self.add_working_days(local.date(), days), local.time().replace(tzinfo=None))

    def _office(self, date: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if not self.is_working_day(date):
            return None
        return self._at(date, self.opens), self._at(date, self.closes)

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working time from `start` to `end`, in seconds (negative when `end` is earlier)."""
        if end < start:
            return -self.working_seconds_between(end, start)
        total = 0
        date = timezone.localtime(start, self.tz).date()
        last = timezone.localtime(end, self.tz).date()
        while date <= last:
            office = self._office(date)
            if office is not None:
                lo, hi = max(office[0], start), min(office[1], end)
                if hi > lo:
                    total += int((hi - lo).total_seconds())
            date += dt.timedelta(days=1)
        return total

    def add_working_seconds(self, moment: dt.datetime, seconds: int | float) -> dt.datetime:
        """The instant `seconds` of working time after `moment` (before it, when negative)."""
        seconds = int(seconds)
        if seconds == 0:
            return moment
        forward = seconds > 0
        remaining = abs(seconds)
        date = timezone.localtime(moment, self.tz).date()
        idle = 0
        while True:
            office = self._office(date)
            if office is not None:
                idle = 0
                if forward:
                    lo = max(office[0], moment)
                    available = (office[1] - lo).total_seconds()
                    if available > 0:
                        if remaining <= available:
                            return lo + dt.timedelta(seconds=remaining)
                        remaining -= int(available)
                else:
                    hi = min(office[1], moment)
                    available = (hi - office[0]).total_seconds()
                    if available > 0:
                        if remaining <= available:
                            return hi - dt.timedelta(seconds=remaining)
                        remaining -= int(available)
            else:
                idle += 1
                if idle > MAX_DAYS_WITHOUT_WORK:
                    raise CalendarError(f"no working day within {MAX_DAYS_WITHOUT_WORK} days of {date}")
            date += dt.timedelta(days=1 if forward else -1)


def load() -> WorkCalendar:
    return WorkCalendar.load()
