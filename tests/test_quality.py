"""The closing loop: feedback, rating (好差评), return visits, the weekly inspection sample
and rectification (整改)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from taxservice.errors import ActionForbidden, ConcurrentChange, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Role
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.quality import selectors, services
from taxservice.workflow.quality.checklist import CHECK_CODES
from taxservice.workflow.quality.models import (
    RECTIFICATION_ITEM,
    CaseRating,
    Inspection,
    InspectionResult,
    QualityLog,
    Rectification,
    ReturnVisit,
    SampledTask,
)
from taxservice.workflow.quality.tasks import inspection_draw_weekly
from tests.factories import StaffFactory

S = TaskState
ALL_PASS = dict.fromkeys(CHECK_CODES, True)


def step(org_staff, task, name, **kwargs):
    return case_services.task_transition(task_id=task.pk, actor=org_staff, name=name, **kwargs)


def done_task(org, open_case, *, result="已核实并办结"):
    """An assisted task worked by `member` of the online team, done and waiting for feedback."""
    task = open_case("assisted").tasks.get()
    step(org.clerk, task, "transfer")
    step(org.member, task, "assign")
    step(org.member, task, "accept")
    return step(org.member, task, "complete", result=result)


def closed_case(org, open_case):
    task = done_task(org, open_case)
    step(org.clerk, task, "give_feedback", result="已电话告知纳税人")
    return task.case


def last_monday() -> dt.date:
    return services.previous_week_start()


# --- feedback ------------------------------------------------------------------------------------


def test_the_feedback_worklist_lists_done_tasks_the_clerk_sees_oldest_first(org, open_case):
    with time_machine.travel(timezone.now() - dt.timedelta(days=1)):
        first = done_task(org, open_case)
    with time_machine.travel(timezone.now() - dt.timedelta(days=3)):
        second = done_task(org, open_case)  # a later id, done earlier
    open_case("assisted")  # received, not done: not on the list
    ids = list(selectors.feedback_worklist(staff=org.clerk).values_list("pk", flat=True))
    assert ids == [second.pk, first.pk]
    assert list(selectors.feedback_worklist(staff=org.back_member2).values_list("pk", flat=True)) == []


def test_giving_feedback_on_a_case_keeps_the_back_offices_result(org, open_case):
    task = done_task(org, open_case, result="经核实，已办结")
    done = services.case_feedback_give(
        actor=org.clerk, case_id=task.case_id, result="已电话告知", channel="phone_12366"
    )
    task.refresh_from_db()
    assert [t.pk for t in done] == [task.pk]
    assert (task.state, task.result, task.feedback, task.feedback_channel) == (
        S.CLOSED,
        "经核实，已办结",
        "已电话告知",
        "phone_12366",
    )
    assert task.transitions.filter(transition="give_feedback", actor=org.clerk).exists()


def test_the_task_page_shows_the_result_beside_the_feedback(org, open_case, client):
    task = done_task(org, open_case, result="经核实，已办结")
    services.case_feedback_give(actor=org.clerk, case_id=task.case_id, result="已当面告知")
    client.force_login(org.clerk.user)
    html = client.get(reverse("task_detail", args=[task.pk])).content.decode()
    assert "经核实，已办结" in html and "已当面告知" in html


def test_feedback_on_a_case_refuses_when_nothing_is_done_and_writes_nothing(org, open_case):
    case = open_case("assisted")
    with pytest.raises(TransitionNotAllowed) as refused:
        services.case_feedback_give(actor=org.clerk, case_id=case.pk, result="x")
    assert refused.value.code == "nothing_to_feed_back"


def test_feedback_on_another_branchs_case_is_not_found(org, open_case):
    task = done_task(org, open_case)
    with pytest.raises(NotFound):
        services.case_feedback_give(actor=org.back_member2, case_id=task.case_id, result="x")
    task.refresh_from_db()
    assert task.state == S.DONE


def test_the_feedback_worklist_page_gives_feedback(org, open_case, client):
    task = done_task(org, open_case, result="已办结")
    client.force_login(org.clerk.user)
    page = client.get(reverse("frontdesk:feedback"))
    assert page.status_code == 200 and f"T{task.pk}" in page.content.decode() and "已办结" in page.content.decode()
    response = client.post(reverse("frontdesk:feedback_give", args=[task.pk]), {"result": "已告知", "channel": ""})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.feedback, task.result) == (S.CLOSED, "已告知", "已办结")


def test_the_feedback_worklist_is_for_the_front_desk(org, client):
    client.force_login(org.member.user)
    assert client.get(reverse("frontdesk:feedback")).status_code == 403


# --- rating --------------------------------------------------------------------------------------


def test_a_good_rating_is_recorded_once_and_opens_nothing(org, open_case):
    case = closed_case(org, open_case)
    rating = services.case_rate(actor=org.clerk, case_id=case.pk, score=5, comment="很好", channel="counter")
    assert (rating.score, rating.grade, rating.recorded_by) == (5, "good", org.clerk)
    assert not Rectification.objects.exists()
    assert QualityLog.objects.filter(action="rate", case=case).count() == 1
    with pytest.raises(ConcurrentChange) as again:
        services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="counter")
    assert again.value.code == "already_rated"
    assert CaseRating.objects.get(case=case).score == 5


@pytest.mark.parametrize("score", [0, 6, "x", None, True])
def test_a_rating_outside_1_to_5_is_refused(org, open_case, score):
    case = closed_case(org, open_case)
    with pytest.raises(InvalidInput) as refused:
        services.case_rate(actor=org.clerk, case_id=case.pk, score=score, channel="counter")
    assert refused.value.code == "invalid_rating" and "score" in refused.value.fields
    assert not CaseRating.objects.exists()


def test_a_too_long_comment_is_refused(org, open_case):
    case = closed_case(org, open_case)
    with pytest.raises(InvalidInput):
        services.case_rate(actor=org.clerk, case_id=case.pk, score=4, comment="字" * 501, channel="counter")


def test_a_case_without_feedback_cannot_be_rated(org, open_case):
    task = done_task(org, open_case)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.case_rate(actor=org.clerk, case_id=task.case_id, score=4, channel="counter")
    assert refused.value.code == "not_ready_for_rating"


def test_only_counter_roles_rate_and_another_branchs_case_is_not_found(org, open_case):
    case = closed_case(org, open_case)
    with pytest.raises(ActionForbidden):
        services.case_rate(actor=org.member, case_id=case.pk, score=4, channel="counter")
    other = StaffFactory(user__username="clerk2", name="前台二", home_branch=org.hall2, roles=[Role.CLERK])
    with pytest.raises(NotFound):
        services.case_rate(actor=other, case_id=case.pk, score=4, channel="counter")
    assert not CaseRating.objects.exists()


def test_a_bad_rating_opens_one_rectification_assigned_to_the_handler(org, open_case):
    case = closed_case(org, open_case)
    rating = services.case_rate(actor=org.clerk, case_id=case.pk, score=2, comment="等太久", channel="counter")
    rectification = Rectification.objects.get()
    task = rectification.task
    assert rectification.rating == rating and rectification.responsible == org.member
    assert "等太久" in rectification.cause
    assert (task.item.code, task.state, task.assignee, task.team) == (
        RECTIFICATION_ITEM,
        S.ASSIGNED,
        org.member,
        org.online,
    )
    assert task in Task.objects.filter(assignee=org.member, state__in=[S.ASSIGNED])
    # Its history says what opened it.
    assign = task.transitions.get(transition="assign")
    assert assign.details["rating"] == rating.pk and assign.details["rectification_of"] == "rating"
    assert f"#{case.pk}" in assign.reason
    # Worked like any task.
    step(org.member, task, "accept")
    step(org.member, task, "complete", result="已整改")
    rectification.refresh_from_db()
    assert rectification.state == S.DONE


def test_a_retried_bad_rating_opens_no_second_rectification(org, open_case):
    case = closed_case(org, open_case)
    rating = services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="api")
    again = services.rectification_open_for_rating(rating_id=rating.pk)
    assert again == Rectification.objects.get()
    with pytest.raises(ConcurrentChange):
        services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="api")
    assert Rectification.objects.count() == 1
    assert Task.objects.filter(item__code=RECTIFICATION_ITEM).count() == 1


def test_the_database_holds_one_rating_per_case_and_one_rectification_per_rating(org, open_case):
    case = closed_case(org, open_case)
    rating = services.case_rate(actor=org.clerk, case_id=case.pk, score=2, channel="counter")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseRating.objects.create(case=case, score=2, channel="counter", recorded_by=org.clerk)
    first = Rectification.objects.get()
    other_task = done_task(org, open_case)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rectification.objects.create(rating=rating, task=other_task, responsible=org.member, cause="x")
    assert Rectification.objects.get() == first


def test_two_rectifications_of_one_taxpayer_are_two_tasks(org, open_case):
    first = closed_case(org, open_case)
    second = closed_case(org, open_case)
    services.case_rate(actor=org.clerk, case_id=first.pk, score=1, channel="counter")
    services.case_rate(actor=org.clerk, case_id=second.pk, score=2, channel="counter")
    assert Rectification.objects.values("task").distinct().count() == 2


def test_a_bad_rating_for_an_off_duty_handler_waits_in_their_team(org, open_case):
    case = closed_case(org, open_case)
    org.member.on_duty = False
    org.member.save()
    services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="counter")
    rectification = Rectification.objects.get()
    assert rectification.responsible == org.member
    assert (rectification.task.state, rectification.task.team) == (S.QUEUED, org.online)


def test_a_bad_rating_of_a_case_handled_on_the_spot_waits_at_the_coordination_post(org, open_case):
    task = open_case("immediate").tasks.get()
    step(org.clerk, task, "handle_on_spot", result="当场办结")
    services.case_rate(actor=org.clerk, case_id=task.case_id, score=1, channel="counter")
    rectification = Rectification.objects.get()
    assert (rectification.responsible, rectification.concerning) == (org.clerk, task)
    assert (rectification.task.state, rectification.task.team, rectification.task.assignee) == (S.QUEUED, org.hub, None)


# --- return visits ---------------------------------------------------------------------------------


def test_a_return_visit_is_recorded_and_validated(org, open_case):
    case = closed_case(org, open_case)
    visit = services.return_visit_record(actor=org.clerk, case_id=case.pk, channel="phone", said="满意", satisfied=True)
    assert (visit.visited_by, visit.satisfied, visit.case) == (org.clerk, True, case)
    with pytest.raises(InvalidInput) as refused:
        services.return_visit_record(actor=org.clerk, case_id=case.pk, channel="fax", said="", satisfied=False)
    assert set(refused.value.fields) == {"channel", "said"}
    with pytest.raises(InvalidInput):
        services.return_visit_record(
            actor=org.clerk,
            case_id=case.pk,
            channel="phone",
            said="x",
            satisfied=True,
            visited_at=timezone.now() + dt.timedelta(days=1),
        )
    with pytest.raises(ActionForbidden):
        services.return_visit_record(actor=org.member, case_id=case.pk, channel="phone", said="x", satisfied=True)
    assert ReturnVisit.objects.count() == 1


# --- the inspection sample ---------------------------------------------------------------------------


def closed_tasks_last_week(org, open_case, n: int) -> list[Task]:
    tasks = []
    when = timezone.make_aware(dt.datetime.combine(last_monday() + dt.timedelta(days=2), dt.time(10)))
    with time_machine.travel(when):
        for _ in range(n):
            task = done_task(org, open_case)
            tasks.append(step(org.clerk, task, "give_feedback", result="已告知"))
    return tasks


def test_the_same_seed_draws_the_same_sample_and_another_seed_another(org, open_case):
    ids = list(range(1, 201))
    assert services.draw_sample(ids, seed=42, size=10) == services.draw_sample(list(reversed(ids)), seed=42, size=10)
    assert services.draw_sample(ids, seed=42, size=10) != services.draw_sample(ids, seed=43, size=10)
    assert len(set(services.draw_sample(ids, seed=7, size=10))) == 10


def test_a_draw_samples_tasks_closed_that_week_with_its_seed_stored(org, open_case):
    tasks = closed_tasks_last_week(org, open_case, 6)
    closed_case(org, open_case)  # closed this week: not a candidate
    inspection = services.inspection_draw(actor=org.inspector, week_start=last_monday(), size=4, seed=2024)
    sampled = list(SampledTask.objects.filter(inspection=inspection).values_list("task_id", flat=True))
    assert (inspection.seed, inspection.candidates, inspection.drawn_by, len(sampled)) == (2024, 6, org.inspector, 4)
    assert sampled == services.draw_sample([t.pk for t in tasks], seed=2024, size=4)
    assert QualityLog.objects.get(action="draw").details["sample"] == sampled


def test_one_inspection_per_week_and_the_schedule_rerun_is_harmless(org, open_case):
    closed_tasks_last_week(org, open_case, 2)
    scheduled = inspection_draw_weekly.run()
    assert Inspection.objects.get().pk == scheduled and Inspection.objects.get().drawn_by is None
    assert inspection_draw_weekly.run() == scheduled
    with pytest.raises(ConcurrentChange) as refused:
        services.inspection_draw(actor=org.inspector, week_start=last_monday())
    assert refused.value.code == "already_drawn"
    assert Inspection.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"week_start": dt.date(2026, 11, 3)}, "week_start"),  # a Tuesday
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"seed": -1}, "seed"),
    ],
)
def test_a_bad_draw_is_refused(org, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        services.inspection_draw(actor=org.inspector, **kwargs)
    assert field in refused.value.fields and not Inspection.objects.exists()


def test_a_week_not_over_cannot_be_drawn(org):
    today = timezone.localdate()
    with pytest.raises(InvalidInput):
        services.inspection_draw(actor=org.inspector, week_start=today - dt.timedelta(days=today.weekday()))


def test_only_inspectors_draw_and_score(org, open_case):
    with pytest.raises(ActionForbidden):
        services.inspection_draw(actor=org.chief, week_start=last_monday())
    closed_tasks_last_week(org, open_case, 1)
    inspection = services.inspection_draw(actor=org.inspector, week_start=last_monday(), size=1)
    task_id = inspection.sample.get().task_id
    with pytest.raises(ActionForbidden):
        services.inspection_result_record(
            actor=org.chief, inspection_id=inspection.pk, task_id=task_id, checks=ALL_PASS
        )


def test_a_passing_result_opens_nothing_and_completes_the_inspection(org, open_case):
    closed_tasks_last_week(org, open_case, 1)
    inspection = services.inspection_draw(actor=org.inspector, week_start=last_monday(), size=3)
    task_id = inspection.sample.get().task_id
    result = services.inspection_result_record(
        actor=org.inspector, inspection_id=inspection.pk, task_id=task_id, checks=ALL_PASS
    )
    inspection.refresh_from_db()
    assert result.passed and inspection.state == Inspection.State.DONE and not Rectification.objects.exists()
    with pytest.raises(ConcurrentChange) as again:
        services.inspection_result_record(
            actor=org.inspector, inspection_id=inspection.pk, task_id=task_id, checks=ALL_PASS
        )
    assert again.value.code == "already_scored"


def test_a_failed_result_needs_findings_and_opens_one_rectification_for_the_last_handler(org, open_case):
    closed_tasks_last_week(org, open_case, 1)
    inspection = services.inspection_draw(actor=org.inspector, week_start=last_monday(), size=1)
    task_id = inspection.sample.get().task_id
    failing = {**ALL_PASS, "on_time": False}
    with pytest.raises(InvalidInput) as refused:
        services.inspection_result_record(
            actor=org.inspector, inspection_id=inspection.pk, task_id=task_id, checks=failing
        )
    assert refused.value.code == "findings_required" and not InspectionResult.objects.exists()
    result = services.inspection_result_record(
        actor=org.inspector, inspection_id=inspection.pk, task_id=task_id, checks=failing, findings="超期两天"
    )
    assert not result.passed
    rectification = Rectification.objects.get()
    assert (rectification.inspection_result, rectification.responsible, rectification.concerning_id) == (
        result,
        org.member,
        task_id,
    )
    assert (rectification.task.assignee, rectification.task.state) == (org.member, S.ASSIGNED)
    assert "on_time" in rectification.cause and "超期两天" in rectification.cause
    assert services.rectification_open_for_result(result_id=result.pk) == rectification
    assert Rectification.objects.count() == 1


def test_incomplete_checks_and_a_task_outside_the_sample_are_refused(org, open_case):
    closed_tasks_last_week(org, open_case, 1)
    inspection = services.inspection_draw(actor=org.inspector, week_start=last_monday(), size=1)
    task_id = inspection.sample.get().task_id
    with pytest.raises(InvalidInput):
        services.inspection_result_record(
            actor=org.inspector, inspection_id=inspection.pk, task_id=task_id, checks={"on_time": True}
        )
    with pytest.raises(NotFound) as missing:
        services.inspection_result_record(
            actor=org.inspector, inspection_id=inspection.pk, task_id=task_id + 999, checks=ALL_PASS
        )
    assert missing.value.code == "not_in_sample"


# --- the rectification list ------------------------------------------------------------------------


def test_the_rectification_list_is_scoped_by_the_tasks_visibility(org, open_case):
    case = closed_case(org, open_case)
    services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="counter")
    assert selectors.rectification_list_for_staff(staff=org.inspector).count() == 1
    assert selectors.rectification_list_for_staff(staff=org.coordinator, state="open").count() == 1
    assert selectors.rectification_list_for_staff(staff=org.chief2).count() == 0
    assert selectors.rectification_list_for_staff(staff=org.inspector, state="closed").count() == 0


# --- API -----------------------------------------------------------------------------------------


def test_api_feedback_rating_and_rectifications(org, open_case, api):
    task = done_task(org, open_case, result="后台结果")
    url = f"/api/v1/cases/{task.case_id}/"
    assert api(org.clerk).post(url + "rating/", {"score": 2}, format="json").json()["code"] == "not_ready_for_rating"
    response = api(org.clerk).post(url + "feedback/", {"task": task.pk, "result": "已告知"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()[0]["state"] == S.CLOSED
    task.refresh_from_db()
    assert (task.result, task.feedback) == ("后台结果", "已告知")
    response = api(org.clerk).post(url + "rating/", {"score": 2, "comment": "慢"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["grade"], body["channel"]) == ("bad", "api") and body["rectification"]
    again = api(org.clerk).post(url + "rating/", {"score": 5}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_rated")
    assert api(org.clerk).get(url + "rating/").json()["score"] == 2
    listed = api(org.inspector).get("/api/v1/rectifications/").json()["results"]
    assert [(r["source"], r["case"], r["responsible"], r["state"]) for r in listed] == [
        ("rating", task.case_id, org.member.pk, S.ASSIGNED)
    ]
    assert api(org.clerk).get("/api/v1/rectifications/").status_code == 403
    assert api(org.member).get("/api/v1/tasks/", {"assignee": org.member.pk}).status_code == 200


def test_api_another_branchs_case_is_404(org, open_case, api):
    case = closed_case(org, open_case)
    other = api(org.back_member2)
    assert other.post(f"/api/v1/cases/{case.pk}/feedback/", {"result": "x"}, format="json").status_code == 404
    assert other.get(f"/api/v1/cases/{case.pk}/rating/").status_code == 404
    assert other.get(f"/api/v1/cases/{case.pk}/return-visits/").status_code == 404
    assert api(org.clerk).get("/api/v1/cases/abc/rating/").status_code == 404


def test_api_return_visits(org, open_case, api):
    case = closed_case(org, open_case)
    url = f"/api/v1/cases/{case.pk}/return-visits/"
    response = api(org.clerk).post(url, {"channel": "phone", "said": "满意", "satisfied": True}, format="json")
    assert response.status_code == 201, response.json()
    assert api(org.clerk).get(url).json()["results"][0]["said"] == "满意"
    bad = api(org.clerk).post(url, {"channel": "fax", "said": "x", "satisfied": True}, format="json")
    assert bad.status_code == 400


def test_api_inspections(org, open_case, api):
    closed_tasks_last_week(org, open_case, 3)
    inspector = api(org.inspector)
    response = inspector.post(
        "/api/v1/inspections/", {"week_start": last_monday().isoformat(), "size": 2, "seed": 9}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["seed"], body["candidates"], len(body["sample"])) == (9, 3, 2)
    again = inspector.post("/api/v1/inspections/", {"week_start": last_monday().isoformat()}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_drawn")
    task_id = body["sample"][0]["task"]
    scored = inspector.post(
        f"/api/v1/inspections/{body['id']}/results/",
        {"task": task_id, "checks": {**ALL_PASS, "feedback_given": False}, "findings": "未告知"},
        format="json",
    )
    assert scored.status_code == 201, scored.json()
    assert scored.json()["passed"] is False and scored.json()["rectification"]
    detail = inspector.get(f"/api/v1/inspections/{body['id']}/").json()
    assert detail["scored"] == 1 and detail["failed"] == 1
    assert inspector.get("/api/v1/inspections/").json()["results"][0]["id"] == body["id"]
    assert api(org.clerk).get("/api/v1/inspections/").status_code == 403
    assert api(org.chief).post("/api/v1/inspections/", {}, format="json").status_code == 403
    assert inspector.get("/api/v1/inspections/999999/").status_code == 404


def test_the_schema_describes_the_loop(org, api):
    schema = api(org.admin).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/cases/{case_id}/feedback/",
        "/api/v1/cases/{case_id}/rating/",
        "/api/v1/cases/{case_id}/return-visits/",
        "/api/v1/inspections/",
        "/api/v1/inspections/{inspection_id}/",
        "/api/v1/inspections/{inspection_id}/results/",
        "/api/v1/rectifications/",
    ):
        assert path in paths, path
    assert "409" in paths["/api/v1/cases/{case_id}/rating/"]["post"]["responses"]


# --- pages ---------------------------------------------------------------------------------------


def test_the_case_page_rates_and_records_a_return_visit(org, open_case, client):
    case = closed_case(org, open_case)
    client.force_login(org.clerk.user)
    assert (
        'hx-get="' + reverse("case_quality", args=[case.pk])
        in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    )
    panel = client.get(reverse("case_quality", args=[case.pk])).content.decode()
    assert 'name="score"' in panel
    client.post(reverse("case_rate", args=[case.pk]), {"score": "2", "comment": "慢"})
    assert CaseRating.objects.get(case=case).channel == "counter"
    client.post(
        reverse("case_return_visit", args=[case.pk]), {"channel": "phone", "said": "已整改", "satisfied": "yes"}
    )
    panel = client.get(reverse("case_quality", args=[case.pk])).content.decode()
    assert "已整改" in panel and 'name="score"' not in panel
    assert f"T{Rectification.objects.get().task_id}" in panel


def test_the_case_panel_of_another_branchs_case_is_404(org, open_case, client):
    case = closed_case(org, open_case)
    client.force_login(org.back_member2.user)
    assert client.get(reverse("case_quality", args=[case.pk])).status_code == 404


def test_the_inspection_pages(org, open_case, client):
    closed_tasks_last_week(org, open_case, 2)
    client.force_login(org.inspector.user)
    assert client.get(reverse("quality_inspections")).status_code == 200
    response = client.post(reverse("quality_draw"), {"week_start": last_monday().isoformat(), "size": "2", "seed": "5"})
    inspection = Inspection.objects.get()
    assert response.url == reverse("quality_inspection", args=[inspection.pk]) and inspection.seed == 5
    task_id = inspection.sample.first().task_id
    data = {f"check_{code}": "pass" for code in CHECK_CODES} | {"check_materials_complete": "fail", "findings": "缺件"}
    client.post(reverse("quality_score", args=[inspection.pk, task_id]), data)
    assert InspectionResult.objects.get().passed is False
    html = client.get(reverse("quality_inspection", args=[inspection.pk])).content.decode()
    assert "缺件" in html and f"T{Rectification.objects.get().task_id}" in html
    assert client.get(reverse("quality_rectifications")).status_code == 200
    client.force_login(org.clerk.user)
    assert client.get(reverse("quality_inspections")).status_code == 403
    assert client.get(reverse("quality_rectifications")).status_code == 403
    client.force_login(org.chief.user)
    assert client.get(reverse("quality_rectifications")).status_code == 200


def test_the_rectification_appears_in_the_handlers_my_tasks(org, open_case, client):
    case = closed_case(org, open_case)
    services.case_rate(actor=org.clerk, case_id=case.pk, score=1, channel="counter")
    client.force_login(org.member.user)
    html = client.get(reverse("my_tasks")).content.decode()
    assert f"T{Rectification.objects.get().task_id}" in html


def test_the_rectification_item_ships_with_the_data_migration(db):
    from taxservice.catalogue.models import Item

    assert Item.objects.filter(code=RECTIFICATION_ITEM, active=True).exists()
