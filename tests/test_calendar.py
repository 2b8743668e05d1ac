"""Working-day arithmetic for due times (taxservice.workflow.cases.calendar).

The dates are in March 2025, a month with no public holiday in China, so these stay
true when the holiday calendar arrives.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from taxservice.workflow.cases import calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

FRIDAY = dt.date(2025, 3, 7)
SATURDAY = dt.date(2025, 3, 8)
SUNDAY = dt.date(2025, 3, 9)
MONDAY = dt.date(2025, 3, 10)


def test_weekdays_are_working_days_and_weekends_are_not():
    assert [calendar.is_working_day(FRIDAY + dt.timedelta(days=n)) for n in range(7)] == [
        True, False, False, True, True, True, True,
    ]  # fmt: skip


def test_adding_working_days_skips_the_weekend():
    assert calendar.add_working_days(FRIDAY, 1) == MONDAY
    assert calendar.add_working_days(dt.date(2025, 3, 6), 3) == dt.date(2025, 3, 11)  # Thursday + 3 = Tuesday
    assert calendar.add_working_days(MONDAY, 5) == dt.date(2025, 3, 17)


def test_counting_from_a_weekend_day_starts_on_monday():
    assert calendar.add_working_days(SATURDAY, 1) == MONDAY
    assert calendar.add_working_days(SUNDAY, 1) == MONDAY


def test_adding_no_working_days_keeps_the_day():
    assert calendar.add_working_days(SATURDAY, 0) == SATURDAY


def test_a_limit_of_zero_is_due_when_received():
    received = dt.datetime(2025, 3, 7, 15, 4, 5, tzinfo=SHANGHAI)
    assert calendar.due_at(received_at=received, time_limit_days=0) == received


def test_friday_afternoon_plus_one_working_day_is_monday_at_close_of_business():
    received = dt.datetime(2025, 3, 7, 15, 0, tzinfo=SHANGHAI)

    due = calendar.due_at(received_at=received, time_limit_days=1)

    assert due == dt.datetime(2025, 3, 10, 17, 30, tzinfo=SHANGHAI)
    assert due.utcoffset() == dt.timedelta(hours=8)


def test_the_day_received_is_the_day_in_shanghai_not_in_utc():
    # 23:30 UTC on Thursday is 07:30 on Friday in Shanghai: one working day is Monday,
    # where counting from the UTC date (Thursday) would give Friday.
    received = dt.datetime(2025, 3, 6, 23, 30, tzinfo=UTC)
    assert calendar.due_at(received_at=received, time_limit_days=1) == dt.datetime(2025, 3, 10, 17, 30, tzinfo=SHANGHAI)
    # 01:00 UTC on Thursday is still Thursday in Shanghai: one working day is Friday.
    received = dt.datetime(2025, 3, 6, 1, 0, tzinfo=UTC)
    assert calendar.due_at(received_at=received, time_limit_days=1) == dt.datetime(2025, 3, 7, 17, 30, tzinfo=SHANGHAI)
