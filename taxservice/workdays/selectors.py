"""Reads of the working-day calendar: a month's grid, a range of days (the API), the
override rows, the change log, the recomputations, and the years still to enter."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from taxservice.errors import InvalidInput
from taxservice.workdays.calendar import HOLIDAY_NAMES, Day, WorkCalendar, package_covers
from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute
from taxservice.workdays.services import FIRST_DATE, LAST_DATE, parse_date

# Where a day's kind comes from (calendar.Day.source).
DAY_SOURCES = ("override", "package", "weekday")
# The longest range one request may ask for: a year, leap or not.
MAX_RANGE_DAYS = 366


def day_name_display(name: str) -> str:
    """A day's name in the active language: the package's names are English and translated;
    an override's name is shown as the administrator typed it."""
    return str(HOLIDAY_NAMES[name]) if name in HOLIDAY_NAMES else name


def calendar_days(*, start: dt.date | str | None, end: dt.date | str | None) -> list[Day]:
    """Every day from `start` to `end`, both included (at most MAX_RANGE_DAYS)."""
    first = parse_date(start, field="start")
    last = parse_date(end, field="end")
    if last < first:
        message = _("The end comes before the start.")
        raise InvalidInput(message, code="range_reversed", fields={"end": [message]})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        message = _("Ask for at most %(max)d days at a time.") % {"max": MAX_RANGE_DAYS}
        raise InvalidInput(message, code="range_too_long", fields={"end": [message]})
    return list(WorkCalendar.load().days(first, last))


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[Day | None]]  # Monday first; None pads the first and last weeks

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def previous(self) -> dt.date | None:
        day = self.first - dt.timedelta(days=1)
        return day.replace(day=1) if day >= FIRST_DATE else None

    @property
    def next(self) -> dt.date | None:
        day = self.first + dt.timedelta(days=32)
        return day.replace(day=1) if day <= LAST_DATE else None


def parse_month(raw: str | None, *, today: dt.date) -> dt.date:
    """The first of the month `raw` names ("2026-02"), or of today's month when it names none
    or names it wrongly (a bad link shows the current month rather than an error)."""
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    return first if FIRST_DATE <= first <= LAST_DATE else today.replace(day=1)


def calendar_month(*, year: int, month: int) -> Month:
    cal = WorkCalendar.load()
    weeks = [
        [cal.day(day) if day.month == month else None for day in week]
        for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    return Month(year=year, month=month, weeks=weeks)


def calendar_override_list() -> QuerySet[CalendarOverride]:
    return CalendarOverride.objects.select_related("changed_by").order_by("date")


def calendar_change_list() -> QuerySet[CalendarChange]:
    """The change log, newest first."""
    return CalendarChange.objects.select_related("actor", "recompute").order_by("-at", "-id")


def clock_recompute_list(*, limit: int = 5) -> list[ClockRecompute]:
    """The latest recomputations, newest first."""
    return list(ClockRecompute.objects.select_related("requested_by").order_by("-created_at", "-id")[:limit])


def clock_recompute_get(*, run_id: int) -> ClockRecompute | None:
    return ClockRecompute.objects.filter(pk=run_id).first()


def clock_recompute_running() -> bool:
    return ClockRecompute.objects.filter(
        state__in=[ClockRecompute.State.PENDING, ClockRecompute.State.RUNNING]
    ).exists()


def years_to_enter(*, today: dt.date) -> list[int]:
    """This year and the next, where the package does not know the arrangement and no
    override has been entered for the year yet: the State Council's arrangement is due."""
    years = [year for year in (today.year, today.year + 1) if not package_covers(year)]
    if not years:
        return []
    entered = set(CalendarOverride.objects.filter(date__year__in=years).values_list("date__year", flat=True).distinct())
    return [year for year in years if year not in entered]
