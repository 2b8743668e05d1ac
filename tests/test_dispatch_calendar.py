"""The dispatch's working-hours filter asks the working-day calendar, not the weekday."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from taxservice.workflow.cases import calendar
from taxservice.workflow.routing import dispatch


def test_the_on_duty_filter_follows_the_working_day_calendar(settings, monkeypatch):
    settings.TAXSERVICE_WORKING_HOURS = "08:30-17:30"
    tz = timezone.get_current_timezone()
    friday = dt.datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    saturday = dt.datetime(2026, 11, 28, 9, 0, tzinfo=tz)
    assert dispatch.within_working_hours(friday) and not dispatch.within_working_hours(saturday)
    # What a holiday calendar declares (a make-up working Saturday, 调休, and a holiday
    # Friday) is what the filter goes by: calendar.is_working_day is the one place to say it.
    monkeypatch.setattr(calendar, "is_working_day", lambda day: day == saturday.date())
    assert dispatch.within_working_hours(saturday)
    assert not dispatch.within_working_hours(friday)
    assert not dispatch.within_working_hours(saturday.replace(hour=18))  # the hours still count
