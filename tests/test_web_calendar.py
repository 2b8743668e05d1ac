"""The calendar page (/calendar/): every staff member reads the month; administrators set and
remove overrides there (errors on the form, nothing written), see the change log and the
recomputations with their progress bar."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute, DayKind
from taxservice.workdays.services import clock_recompute_start
from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import TaskState, TaskTransition
from tests.test_services_transitions import drive

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def cell(page: str, date: str) -> str:
    match = re.search(rf'<td class="cal-day[^"]*" data-date="{date}".*?</td>', page, flags=re.S)
    assert match, date
    return match.group(0)


def test_a_clerk_reads_the_month_without_the_form(client, org):
    client.force_login(org.clerk.user)
    response = client.get(reverse("calendar"), {"month": "2026-02"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "2026年2月" in page
    assert "公休假日" in cell(page, "2026-02-16") or "法定节假日" in cell(page, "2026-02-16")
    assert "春节" in cell(page, "2026-02-16")
    assert "★" in cell(page, "2026-02-16")
    assert "◆" in cell(page, "2026-02-14") and 'data-kind="adjusted_workday"' in cell(page, "2026-02-14")
    assert 'data-kind="weekend"' in cell(page, "2026-02-08")
    assert 'id="override-form"' not in page and 'id="calendar-changes"' not in page
    assert 'class="calendar-legend"' in page


def test_the_page_is_in_the_navigation_and_needs_a_sign_in(client, org):
    assert client.get(reverse("calendar")).status_code == 302
    client.force_login(org.member.user)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("calendar")}"' in page


def test_today_s_month_by_default_and_a_bad_month_falls_back_to_it(client, org):
    client.force_login(org.clerk.user)
    with time_machine.travel(dt.datetime(2026, 10, 8, 10, tzinfo=TZ), tick=False):
        for query in ({}, {"month": "garbage"}, {"month": "2026-13"}, {"month": "3000-01"}):
            page = client.get(reverse("calendar"), query).content.decode()
            assert "2026年10月" in page, query
            assert 'aria-current="date"' in cell(page, "2026-10-08")


def test_an_administrator_sets_an_override_through_the_form_and_sees_it_in_the_grid(client, org):
    client.force_login(org.admin.user)
    page = client.get(reverse("calendar"), {"month": "2027-02", "date": "2027-02-06"}).content.decode()
    assert 'id="override-form"' in page and 'value="2027-02-06"' in page
    response = client.post(
        reverse("calendar_override"),
        {"action": "set", "date": "2027-02-06", "kind": DayKind.HOLIDAY, "name": "春节", "reason": "国办发明电"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("calendar") + "?month=2027-02"
    page = client.get(response["Location"]).content.decode()
    day = cell(page, "2027-02-06")
    assert 'data-kind="holiday"' in day and "春节" in day and "cal-override" in day
    assert "国办发明电" in page  # the overrides list and the change log
    assert CalendarChange.objects.get().actor == org.admin


def test_the_form_shows_the_errors_keeps_the_words_and_writes_nothing(client, org):
    client.force_login(org.admin.user)
    response = client.post(
        reverse("calendar_override"),
        {"action": "set", "date": "2027-02-06", "kind": DayKind.HOLIDAY, "name": "春节", "reason": ""},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "error-text" in page
    assert 'value="春节"' in page and 'value="2027-02-06"' in page
    assert "2027年2月" in page  # the month of the date typed
    assert not CalendarOverride.objects.exists() and not CalendarChange.objects.exists()


def test_removing_through_the_form(client, org):
    client.force_login(org.admin.user)
    client.post(
        reverse("calendar_override"),
        {"action": "set", "date": "2027-01-01", "kind": DayKind.HOLIDAY, "name": "元旦", "reason": "通知"},
    )
    response = client.post(reverse("calendar_override"), {"action": "remove", "date": "2027-01-01", "reason": "撤回"})
    assert response.status_code == 302
    assert not CalendarOverride.objects.exists()
    response = client.post(reverse("calendar_override"), {"action": "remove", "date": "2027-01-01", "reason": "再撤"})
    assert response.status_code == 400  # there is nothing left to remove
    assert CalendarChange.objects.count() == 2


@pytest.mark.parametrize("who", ["clerk", "coordinator", "chief", "member"])
def test_only_administrators_may_post_overrides(client, org, who):
    client.force_login(getattr(org, who).user)
    response = client.post(
        reverse("calendar_override"),
        {"action": "set", "date": "2027-01-01", "kind": DayKind.HOLIDAY, "name": "", "reason": "x"},
    )
    assert response.status_code == 403
    assert not CalendarOverride.objects.exists()
    run = ClockRecompute.objects.create(cause="manual")
    assert client.get(reverse("calendar_recompute", args=[run.pk])).status_code == 403


def test_the_form_needs_a_post(client, org):
    client.force_login(org.admin.user)
    assert client.get(reverse("calendar_override")).status_code == 405


def test_the_warning_asks_for_next_year_s_arrangement(client, org):
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=TZ), tick=False):
        client.force_login(org.admin.user)
        page = client.get(reverse("calendar")).content.decode()
        assert "calendar-warning" in page and "2027" in page
        client.post(
            reverse("calendar_override"),
            {"action": "set", "date": "2027-01-01", "kind": DayKind.HOLIDAY, "name": "元旦", "reason": "通知"},
        )
        page = client.get(reverse("calendar")).content.decode()
        assert "calendar-warning" not in page


def test_the_recomputation_shows_its_progress_and_stops_polling_when_done(
    client, org, open_case, django_capture_on_commit_callbacks
):
    client.force_login(org.admin.user)
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=TZ), tick=False):
        task = drive(org, open_case("assisted").tasks.get(), TaskState.QUEUED)
    run = clock_recompute_start(actor=org.admin, cause="manual")  # not committed: still waiting
    page = client.get(reverse("calendar")).content.decode()
    assert f'hx-get="{reverse("calendar_recompute", args=[run.pk])}"' in page
    partial = client.get(reverse("calendar_recompute", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and 'aria-valuenow="0"' in partial
    clocks.recompute(run.pk)
    partial = client.get(reverse("calendar_recompute", args=[run.pk])).content.decode()
    assert "hx-get" not in partial and 'aria-valuenow="100"' in partial
    assert client.get(reverse("calendar_recompute", args=[run.pk + 1000])).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("calendar_override"),
            {"action": "set", "date": "2026-03-03", "kind": DayKind.HOLIDAY, "name": "", "reason": "停电"},
        )
    assert response.status_code == 302
    assert TaskTransition.objects.filter(task=task, transition=clocks.RECOMPUTE_DUE).count() == 1
    assert ClockRecompute.objects.latest("id").state == ClockRecompute.State.DONE


def test_the_change_log_is_paginated(client, org):
    client.force_login(org.admin.user)
    for day in range(1, 28):
        client.post(
            reverse("calendar_override"),
            {"action": "set", "date": f"2027-03-{day:02d}", "kind": DayKind.HOLIDAY, "name": "", "reason": "测试"},
        )
    assert CalendarChange.objects.count() == 27
    page = client.get(reverse("calendar"), {"month": "2027-03"}).content.decode()
    assert 'class="pagination"' in page
    second = client.get(reverse("calendar"), {"month": "2027-03", "page": 2})
    assert second.status_code == 200
