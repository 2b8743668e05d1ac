"""The working-day calendar (taxservice.workdays.calendar): China's holidays and 调休 from
the chinese-calendar package, administrators' overrides, office hours, and the arithmetic
every due time uses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from taxservice.workdays.calendar import WorkCalendar, package_covers
from taxservice.workdays.models import DayKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

# March 2025 has no public holiday.
FRIDAY = dt.date(2025, 3, 7)
SATURDAY = dt.date(2025, 3, 8)
SUNDAY = dt.date(2025, 3, 9)
MONDAY = dt.date(2025, 3, 10)


@pytest.fixture
def cal():
    return WorkCalendar({})


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


def test_weekdays_are_working_days_and_weekends_are_not(cal):
    assert [cal.is_working_day(FRIDAY + dt.timedelta(days=n)) for n in range(7)] == [
        True, False, False, True, True, True, True,
    ]  # fmt: skip


def test_adding_working_days_skips_the_weekend_both_ways(cal):
    assert cal.add_working_days(FRIDAY, 1) == MONDAY
    assert cal.add_working_days(dt.date(2025, 3, 6), 3) == dt.date(2025, 3, 11)  # Thursday + 3 = Tuesday
    assert cal.add_working_days(SATURDAY, 1) == MONDAY
    assert cal.add_working_days(SATURDAY, 0) == SATURDAY
    assert cal.add_working_days(MONDAY, -1) == FRIDAY


def test_spring_festival_2026_with_its_make_up_working_saturdays(cal):
    # The holiday runs 15–23 February 2026; Saturday 14 and Saturday 28 February are worked.
    assert cal.day(dt.date(2026, 2, 14)).kind == DayKind.ADJUSTED_WORKDAY
    assert cal.day(dt.date(2026, 2, 16)).kind == DayKind.HOLIDAY
    assert cal.day(dt.date(2026, 2, 16)).name == "Spring Festival"
    assert cal.day(dt.date(2026, 2, 28)).kind == DayKind.ADJUSTED_WORKDAY
    assert not any(cal.is_working_day(dt.date(2026, 2, day)) for day in range(15, 24))
    # Friday 13 February + 1 working day is the make-up Saturday; + 2 is Tuesday the 24th.
    assert cal.add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert cal.add_working_days(dt.date(2026, 2, 13), 2) == dt.date(2026, 2, 24)


def test_national_day_2026_the_issue_s_example(cal):
    # A 3-working-day item received on 30 September 2026 was due on 5 October, inside the
    # holiday (1–7 October). Working days after 30 September: 8, 9 and Saturday 10 October.
    assert cal.day(dt.date(2026, 10, 1)).kind == DayKind.HOLIDAY
    assert cal.day(dt.date(2026, 10, 10)).kind == DayKind.ADJUSTED_WORKDAY
    assert cal.due_in_days(at(2026, 9, 30, 10), 3) == at(2026, 10, 10, 17, 30)


def test_years_the_package_does_not_cover_fall_back_to_the_weekday_and_overrides_win():
    assert package_covers(2026)
    assert not package_covers(2099)
    cal = WorkCalendar({dt.date(2099, 1, 1): (DayKind.HOLIDAY, "New Year's Day")})
    assert cal.day(dt.date(2099, 1, 1)).source == "override"
    assert not cal.is_working_day(dt.date(2099, 1, 1))  # a Thursday, declared a holiday
    assert cal.day(dt.date(2099, 1, 2)).source == "weekday" and cal.is_working_day(dt.date(2099, 1, 2))


def test_a_limit_of_zero_is_due_when_received(cal):
    received = at(2025, 3, 7, 15, 4)
    assert cal.due_in_days(received, 0) == received


def test_friday_afternoon_plus_one_working_day_is_monday_at_close_of_business(cal):
    due = cal.due_in_days(at(2025, 3, 7, 15), 1)
    assert due == at(2025, 3, 10, 17, 30)
    assert due.utcoffset() == dt.timedelta(hours=8)


def test_the_day_received_is_the_day_in_shanghai_not_in_utc(cal):
    # 23:30 UTC on Thursday is 07:30 on Friday in Shanghai: one working day is Monday.
    assert cal.due_in_days(dt.datetime(2025, 3, 6, 23, 30, tzinfo=UTC), 1) == at(2025, 3, 10, 17, 30)
    assert cal.due_in_days(dt.datetime(2025, 3, 6, 1, 0, tzinfo=UTC), 1) == at(2025, 3, 7, 17, 30)


def test_working_time_counts_office_hours_of_working_days_only(cal):
    # Friday 16:30 to Monday 10:00: one hour on Friday, one on Monday.
    assert cal.working_seconds_between(at(2025, 3, 7, 16, 30), at(2025, 3, 10, 10)) == 2 * 3600
    assert cal.working_seconds_between(at(2025, 3, 10, 10), at(2025, 3, 7, 16, 30)) == -2 * 3600
    assert cal.add_working_seconds(at(2025, 3, 7, 16, 30), 2 * 3600) == at(2025, 3, 10, 10)
    assert cal.add_working_seconds(at(2025, 3, 10, 10), -2 * 3600) == at(2025, 3, 7, 16, 30)
    # From outside office hours, counting starts at the next opening.
    assert cal.due_in_hours(at(2025, 3, 8, 12), 4) == at(2025, 3, 10, 13)


def test_shifting_by_working_days_keeps_the_time_of_day(cal):
    assert cal.shift_working_days(at(2025, 3, 7, 17, 30), 2) == at(2025, 3, 11, 17, 30)
    assert cal.shift_working_days(at(2025, 3, 11, 9), -2) == at(2025, 3, 7, 9)
