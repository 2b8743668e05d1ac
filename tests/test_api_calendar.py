"""The calendar API: each day of a range for every caller (2026's Spring Festival and
National Day with their make-up working weekends), and the overrides for administrators
through the same services as the page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute
from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import TaskState, TaskTransition
from tests.test_services_transitions import drive

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar/"
OVERRIDES = "/api/v1/calendar/overrides/"
TZ = timezone.get_current_timezone()


def days(client, start: str, end: str) -> dict[str, dict]:
    response = client.get(URL, {"start": start, "end": end})
    assert response.status_code == 200, response.json()
    return {day["date"]: day for day in response.json()["days"]}


def kinds(answer: dict[str, dict]) -> dict[str, str]:
    return {date: day["kind"] for date, day in answer.items()}


def test_spring_festival_2026_with_its_make_up_saturdays(api, org):
    answer = days(api(org.clerk), "2026-02-13", "2026-03-01")
    assert len(answer) == 17
    for date in ("2026-02-14", "2026-02-28"):  # Saturdays worked
        assert answer[date]["kind"] == "adjusted_workday" and answer[date]["is_working"], date
        assert answer[date]["source"] == "package"
    for day in range(15, 24):
        date = f"2026-02-{day:02d}"
        assert answer[date]["kind"] == "holiday" and not answer[date]["is_working"], date
        assert answer[date]["name"] == "Spring Festival"
        assert answer[date]["name_display"] == "春节"
        assert answer[date]["kind_display"] == "法定节假日"
    assert answer["2026-02-13"]["kind"] == "workday" and answer["2026-02-13"]["name"] == ""
    assert answer["2026-03-01"]["kind"] == "weekend"


def test_national_day_2026_with_its_make_up_sunday_and_saturday(api, org):
    answer = kinds(days(api(org.clerk), "2026-09-19", "2026-10-11"))
    assert answer["2026-09-20"] == "adjusted_workday"  # Sunday
    assert answer["2026-10-10"] == "adjusted_workday"  # Saturday
    assert [answer[f"2026-10-{day:02d}"] for day in range(1, 8)] == ["holiday"] * 7
    assert answer["2026-09-19"] == "weekend" and answer["2026-10-11"] == "weekend"
    assert answer["2026-10-08"] == "workday"


def test_the_names_follow_the_caller_s_language(api, org, settings):
    client = api(org.clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's cookie
    response = client.get(URL, {"start": "2026-10-01", "end": "2026-10-01"})
    [day] = response.json()["days"]
    assert (day["name"], day["name_display"], day["kind_display"]) == ("National Day", "National Day", "Public holiday")


def test_years_the_package_does_not_know_count_the_weekday(api, org):
    answer = days(api(org.member), "2099-01-01", "2099-01-04")
    assert {day["source"] for day in answer.values()} == {"weekday"}
    assert kinds(answer) == {
        "2099-01-01": "workday", "2099-01-02": "workday", "2099-01-03": "weekend", "2099-01-04": "weekend",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ({}, "required", "start"),
        ({"start": "2026-01-01"}, "required", "end"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "invalid_date", "start"),
        ({"start": "yesterday", "end": "2026-03-01"}, "invalid_date", "start"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "range_reversed", "end"),
        ({"start": "2026-01-01", "end": "2027-01-02"}, "range_too_long", "end"),
        ({"start": "1999-12-31", "end": "2000-01-01"}, "date_out_of_range", "start"),
    ],
)
def test_a_bad_range_is_a_400_with_a_code(api, org, query, code, field):
    response = api(org.clerk).get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and field in body["fields"] and body["detail"]


def test_a_whole_leap_year_is_allowed(api, org):
    assert len(days(api(org.clerk), "2028-01-01", "2028-12-31")) == 366


def test_anonymous_callers_get_401_json(client):
    response = client.get(URL, {"start": "2026-01-01", "end": "2026-01-02"})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_an_administrator_sets_lists_and_removes_an_override(api, org, django_capture_on_commit_callbacks):
    client = api(org.admin)
    response = client.post(
        OVERRIDES,
        {"date": "2027-02-06", "kind": "holiday", "name": "春节", "reason": "国办发明电"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["date"], body["before_kind"], body["kind"], body["name"], body["by"]) == (
        "2027-02-06", "weekend", "holiday", "春节", org.admin.pk,
    )  # fmt: skip
    assert body["recompute"] is None  # a Saturday stays idle: no due time moves
    day = days(client, "2027-02-06", "2027-02-06")["2027-02-06"]
    assert (day["kind"], day["source"], day["name_display"]) == ("holiday", "override", "春节")

    listing = client.get(OVERRIDES, {"year": "2027"}).json()
    assert [row["date"] for row in listing["results"]] == ["2027-02-06"] and listing["count"] == 1
    assert client.get(OVERRIDES, {"year": "2026"}).json()["count"] == 0

    response = client.delete(f"{OVERRIDES}2027-02-06/", {"reason": "撤回"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["override_removed"] is True and response.json()["kind"] == "weekend"
    assert not CalendarOverride.objects.exists()
    assert CalendarChange.objects.count() == 2


def test_the_reason_of_a_removal_may_come_in_the_query(api, org):
    client = api(org.admin)
    client.post(OVERRIDES, {"date": "2027-01-04", "kind": "holiday", "reason": "x"}, format="json")
    assert client.delete(f"{OVERRIDES}2027-01-04/").json()["code"] == "reason_required"
    response = client.delete(f"{OVERRIDES}2027-01-04/?reason=撤回")
    assert response.status_code == 200
    assert response.json()["recompute"] is not None  # a Monday worked again: due times move


def test_an_override_through_the_api_moves_open_due_times_only(api, org, open_case, django_capture_on_commit_callbacks):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=TZ), tick=False):
        open_task = drive(org, open_case("assisted").tasks.get(), TaskState.IN_PROGRESS)
        closed_task = drive(org, open_case("assisted").tasks.get(), TaskState.CLOSED)
    client = api(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            OVERRIDES, {"date": "2026-03-03", "kind": "holiday", "name": "", "reason": "停电"}, format="json"
        )
    run_id = response.json()["recompute"]
    run = client.get(f"/api/v1/calendar/recomputes/{run_id}/").json()
    assert (run["state"], run["total"], run["moved"], run["percent"]) == ("done", 1, 1, 100)
    rows = TaskTransition.objects.filter(transition=clocks.RECOMPUTE_DUE)
    assert list(rows.values_list("task", flat=True)) == [open_task.pk]
    closed_due = closed_task.due_at
    closed_task.refresh_from_db()
    assert closed_task.due_at == closed_due


@pytest.mark.parametrize("who", ["clerk", "coordinator", "chief", "member", "integrator"])
def test_only_administrators_write_or_list_overrides(api, org, who):
    client = api(getattr(org, who))
    response = client.post(OVERRIDES, {"date": "2027-01-01", "kind": "holiday", "reason": "x"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.delete(f"{OVERRIDES}2027-01-01/?reason=x").status_code == 403
    assert client.get(OVERRIDES).status_code == 403
    run = ClockRecompute.objects.create(cause="manual")
    assert client.get(f"/api/v1/calendar/recomputes/{run.pk}/").status_code == 403
    assert not CalendarOverride.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"date": "2027-01-01", "kind": "holiday"}, "reason_required"),
        ({"date": "2027-01-01", "kind": "party", "reason": "x"}, "invalid_kind"),
        ({"date": "01/01/2027", "kind": "holiday", "reason": "x"}, "invalid_date"),
        ({"date": 20270101.5, "kind": "holiday", "reason": "x"}, "invalid_date"),
        ({"kind": "holiday", "reason": "x"}, "required"),
        ({"date": "2027-01-01", "kind": "holiday", "name": "n" * 51, "reason": "x"}, "name_too_long"),
        ({"date": "2027-01-01", "kind": "holiday", "name": 5, "reason": ["x"] * 600}, "reason_too_long"),
        ({"date": "2026-10-01", "kind": "holiday", "name": "National Day", "reason": "x"}, "nothing_to_change"),
    ],
)
def test_invalid_overrides_are_400_with_a_code_and_write_nothing(api, org, body, code):
    response = api(org.admin).post(OVERRIDES, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not CalendarOverride.objects.exists() and not CalendarChange.objects.exists()


def test_odd_requests_get_json_errors_not_500s(api, org):
    client = api(org.admin)
    assert client.post(OVERRIDES, ["not", "an", "object"], format="json").json()["code"] == "required"
    assert client.delete(f"{OVERRIDES}2027-01-01/?reason=x").json()["code"] == "no_override"
    assert client.delete(f"{OVERRIDES}not-a-date/?reason=x").json()["code"] == "invalid_date"
    assert client.get(OVERRIDES, {"year": "twenty"}).json()["code"] == "invalid_year"
    assert client.get(f"/api/v1/calendar/recomputes/{2**70}/").status_code == 404
    assert client.get("/api/v1/calendar/recomputes/999/").json()["code"] == "not_found"


def test_the_schema_documents_the_calendar(api, org):
    schema = api(org.clerk).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/calendar/", "/api/v1/calendar/overrides/", "/api/v1/calendar/overrides/{date}/"):
        assert path in schema["paths"], path
    assert "400" in schema["paths"]["/api/v1/calendar/"]["get"]["responses"]
    assert "403" in schema["paths"]["/api/v1/calendar/overrides/"]["post"]["responses"]
    assert set(schema["components"]["schemas"]["DayKindEnum"]["enum"]) == {
        "workday", "weekend", "holiday", "adjusted_workday",
    }  # fmt: skip
