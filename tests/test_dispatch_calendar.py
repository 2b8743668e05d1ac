"""The dispatch's working-hours filter asks the working-day calendar, not the weekday."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from taxservice.workdays.models import CalendarOverride, DayKind
from taxservice.workflow.routing import dispatch


@pytest.mark.django_db
def test_the_on_duty_filter_follows_the_working_day_calendar(settings, org):
    settings.TAXSERVICE_WORKING_HOURS = "08:30-17:30"
    tz = timezone.get_current_timezone()
    friday = dt.datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    saturday = dt.datetime(2026, 11, 28, 9, 0, tzinfo=tz)
    assert dispatch.within_working_hours(friday) and not dispatch.within_working_hours(saturday)
    # What the calendar declares (a make-up working Saturday, 调休, and a holiday Friday) is
    # what the filter goes by.
    for day, kind in ((saturday, DayKind.ADJUSTED_WORKDAY), (friday, DayKind.HOLIDAY)):
        CalendarOverride.objects.create(date=day.date(), kind=kind, reason="test", changed_by=org.admin)
    assert dispatch.within_working_hours(saturday)
    assert not dispatch.within_working_hours(friday)
    assert not dispatch.within_working_hours(saturday.replace(hour=18))  # the hours still count
