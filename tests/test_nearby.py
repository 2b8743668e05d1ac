"""就近办: door-to-door visits and materials collected at service points — services,
permissions, the logs, the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from taxservice.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.nearby import services
from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent
from tests.factories import StaffFactory
from tests.nearby_support import make_grid

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


@pytest.fixture
def setup(org):
    return make_grid(org)


def _schedule(setup, actor=None, **overrides):
    values = {
        "actor": actor or setup.grid_staff,
        "taxpayer": setup.taxpayer.credit_code,
        "scheduled_for": TOMORROW,
        "address": "人民路1号",
        "purpose": "上门辅导申报",
    }
    return services.visit_schedule(**(values | overrides))


def test_grid_staff_schedule_and_record_a_visit_with_its_log(setup):
    visit = _schedule(setup, staff_id=setup.grid_staff2.pk)
    assert (visit.grid, visit.staff, visit.state) == (setup.grid, setup.grid_staff2, Visit.State.SCHEDULED)
    done = services.visit_record(actor=setup.grid_staff2, visit_id=visit.pk, outcome="已辅导完成申报")
    assert done.state == Visit.State.DONE and done.recorded_by == setup.grid_staff2
    events = list(VisitEvent.objects.filter(visit=visit).values_list("action", "from_state", "to_state"))
    assert events == [("schedule", "", "scheduled"), ("record", "scheduled", "done")]
    with pytest.raises(TransitionNotAllowed):
        services.visit_cancel(actor=setup.grid_staff, visit_id=visit.pk, reason="重复")


def test_a_visit_needs_an_outcome_a_future_day_and_one_of_the_grids_staff(setup, org):
    visit = _schedule(setup)
    with pytest.raises(InvalidInput) as refused:
        services.visit_record(actor=setup.grid_staff, visit_id=visit.pk, outcome="  ")
    assert refused.value.code == "outcome_required"
    with pytest.raises(InvalidInput) as refused:
        _schedule(setup, scheduled_for=timezone.localdate() - dt.timedelta(days=1))
    assert "scheduled_for" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        _schedule(setup, staff_id=org.clerk.pk)
    assert refused.value.code == "staff_not_of_grid"
    assert Visit.objects.count() == 1 and VisitEvent.objects.count() == 1


def test_only_the_grids_staff_and_supervisors_work_its_visits(setup, org):
    with pytest.raises(ActionForbidden):
        _schedule(setup, actor=org.clerk)
    outsider = StaffFactory(home_branch=org.source2, roles=["team_member"])
    visit = _schedule(setup, actor=org.coordinator, staff_id=setup.grid_staff.pk)
    with pytest.raises(Exception) as refused:
        services.visit_record(actor=outsider, visit_id=visit.pk, outcome="x")
    assert refused.value.code == "not_found"
    assert services.visit_cancel(actor=org.chief, visit_id=visit.pk, reason="纳税人已自行办结").state == "cancelled"


def _point_case(org, setup, items):
    return case_services.case_open(
        actor=org.clerk,
        taxpayer=setup.taxpayer.credit_code,
        channel="service_point",
        service_point=setup.point.code,
        scenario="collected",
        items=[case_services.RequestedItem(item=items["immediate"].code)],
    )


def test_collected_materials_go_to_the_team_and_back_each_step_logged(org, setup, items):
    case = _point_case(org, setup, items)
    collection = services.collection_open(
        actor=org.clerk,
        service_point=setup.point.code,
        case_id=case.pk,
        team=org.basic.code,
        materials="营业执照复印件",
    )
    services.collection_step(actor=org.clerk, collection_id=collection.pk, step="hand_over")
    with pytest.raises(ActionForbidden):
        services.collection_step(actor=org.clerk, collection_id=collection.pk, step="receive")
    services.collection_step(actor=org.back_member, collection_id=collection.pk, step="receive", note="材料齐全")
    with pytest.raises(TransitionNotAllowed):
        services.collection_step(actor=org.back_member, collection_id=collection.pk, step="receive")
    final = services.collection_step(actor=org.back_member, collection_id=collection.pk, step="return")
    assert final.state == Collection.State.RETURNED
    steps = list(CollectionStep.objects.filter(collection=collection).values_list("step", "actor_id"))
    assert steps == [
        ("collect", org.clerk.pk),
        ("hand_over", org.clerk.pk),
        ("receive", org.back_member.pk),
        ("return", org.back_member.pk),
    ]


def test_collected_materials_need_a_team(org, setup, items):
    case = _point_case(org, setup, items)
    with pytest.raises(InvalidInput) as refused:
        services.collection_open(actor=org.clerk, service_point=setup.point.code, case_id=case.pk, materials="x")
    assert refused.value.code == "team_required"
    assert not Collection.objects.exists()


def test_the_visits_page_schedules_records_and_keeps_typed_words(client, setup):
    client.force_login(setup.grid_staff.user)
    url = reverse("visits")
    response = client.post(
        url,
        {
            "action": "schedule",
            "taxpayer": "NOPE",
            "scheduled_for": TOMORROW.isoformat(),
            "staff": setup.grid_staff.pk,
            "address": "人民路1号",
            "purpose": "核实地址",
        },
    )
    assert response.status_code == 400 and "核实地址" in response.content.decode()
    form = {
        "action": "schedule",
        "taxpayer": setup.taxpayer.credit_code,
        "scheduled_for": TOMORROW.isoformat(),
        "staff": setup.grid_staff.pk,
        "address": "人民路1号",
        "purpose": "核实地址",
    }
    assert client.post(url, form).status_code == 302
    visit = Visit.objects.get()
    response = client.post(url, {"action": "record", "visit": visit.pk, "text": ""})
    assert response.status_code == 400
    assert client.post(url, {"action": "record", "visit": visit.pk, "text": "地址属实"}).status_code == 302
    assert Visit.objects.get().state == "done"
    assert client.get(url + "?state=done").status_code == 200


def test_the_pages_open_for_those_they_serve(client, org, setup):
    client.force_login(org.clerk.user)
    assert client.get(reverse("visits")).status_code == 403
    assert client.get(reverse("collections")).status_code == 200
    assert client.get(reverse("service_points")).status_code == 200
    client.force_login(setup.grid_staff.user)
    assert client.get(reverse("visits")).status_code == 200


def test_the_api_schedules_records_and_steps_with_error_codes(api, org, setup, items):
    client = api(setup.grid_staff)
    body = {
        "taxpayer": setup.taxpayer.credit_code,
        "scheduled_for": TOMORROW.isoformat(),
        "address": "人民路1号",
        "purpose": "送达文书",
    }
    created = client.post("/api/v1/visits/", body, format="json")
    assert created.status_code == 201, created.json()
    visit_id = created.json()["id"]
    refused = client.post(f"/api/v1/visits/{visit_id}/record/", {"outcome": ""}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "outcome_required"
    done = client.post(f"/api/v1/visits/{visit_id}/record/", {"outcome": "已送达"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert [e["action"] for e in done.json()["events"]] == ["schedule", "record"]
    listed = client.get("/api/v1/visits/?state=done").json()
    assert listed["count"] == 1
    assert api(org.clerk).post("/api/v1/visits/", body, format="json").json()["code"] == "permission_denied"
    assert client.get("/api/v1/service-points/SP01/").json()["grids"] == ["G01"]

    case = _point_case(org, setup, items)
    clerk = api(org.clerk)
    made = clerk.post(
        "/api/v1/collections/",
        {"service_point": "SP01", "case": case.pk, "team": org.basic.code, "materials": "发票领用簿"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    step = clerk.post(f"/api/v1/collections/{made.json()['id']}/steps/", {"step": "receive"}, format="json")
    assert step.status_code == 403 and step.json()["code"] == "permission_denied"  # not the handling team
    step = clerk.post(f"/api/v1/collections/{made.json()['id']}/steps/", {"step": "hand_over"}, format="json")
    assert step.status_code == 200 and step.json()["state"] == "handed_over"
    assert clerk.get("/api/v1/collections/").json()["count"] == 1


def test_the_grid_overview_counts_its_visits_and_each_service_point_s_activity(client, org, setup, items):
    from taxservice.workflow.nearby.selectors import grid_activity

    done = _schedule(setup)
    services.visit_record(actor=setup.grid_staff, visit_id=done.pk, outcome="已辅导完成申报")
    _schedule(setup)
    case = _point_case(org, setup, items)
    services.collection_open(
        actor=org.clerk,
        service_point=setup.point.code,
        case_id=case.pk,
        team=org.basic.code,
        materials="营业执照复印件",
    )
    activity = grid_activity(grid_id=setup.grid.pk)
    assert activity.visits == {"scheduled": 1, "done": 1, "cancelled": 0}
    assert [(row.point.code, row.cases, row.in_transit) for row in activity.points] == [(setup.point.code, 1, 1)]
    client.force_login(setup.grid_staff.user)
    page = client.get(reverse("grid:grid", args=[setup.grid.code])).content.decode()
    section = page.split('id="service-point-activity"', 1)[1].split("</section>", 1)[0]
    assert setup.point.name in section and "已完成上门" in section
