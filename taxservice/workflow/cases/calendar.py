"""Working-day arithmetic for due times.

Monday to Friday are working days for now; a holiday calendar replaces `is_working_day`
in a later issue. Items due "in N working days" are due at the close of business of the
Nth working day after the day they were received.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

CLOSE_OF_BUSINESS = dt.time(17, 30)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5


def add_working_days(day: dt.date, days: int) -> dt.date:
    current = day
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def due_at(*, received_at: dt.datetime, time_limit_days: int) -> dt.datetime:
    """The due time of an item received at `received_at` with a limit in working days.

    A limit of 0 means on the spot: due when received.
    """
    if time_limit_days <= 0:
        return received_at
    local = timezone.localtime(received_at)
    due_day = add_working_days(local.date(), time_limit_days)
    return timezone.make_aware(dt.datetime.combine(due_day, CLOSE_OF_BUSINESS), timezone.get_current_timezone())
