"""Every change is audited: one generic change-log row per change, with the fields that
changed before and after, written by the services and by the admin's save."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory

from taxservice.changes.models import ChangeLog
from taxservice.changes.selectors import changes_for
from taxservice.changes.services import record_change
from taxservice.org.models import Branch, Staff, Team
from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.services import taxpayer_register
from taxservice.workflow.routing import services as routing_services
from taxservice.workflow.routing.models import RobotSettings
from tests.factories import credit_code

A = ChangeLog.Action


def rows_for(obj) -> list[ChangeLog]:
    return list(ChangeLog.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk))


def test_record_change_keeps_only_the_changed_fields_and_writes_nothing_without_a_change(org):
    row = record_change(
        actor=org.admin,
        obj=org.member,
        action=A.CHANGED,
        before={"capacity": 20, "on_duty": True},
        after={"capacity": 25, "on_duty": True},
    )
    assert row is not None and row.changes == {"capacity": [20, 25]}
    assert (row.actor, row.actor_name, row.object_label) == (org.admin, org.admin.name, org.member.name)
    assert record_change(actor=org.admin, obj=org.member, action=A.CHANGED, before={"a": 1}, after={"a": 1}) is None
    assert len(rows_for(org.member)) == 1


def test_a_duty_toggle_writes_one_row_and_a_toggle_to_the_same_duty_writes_none(org):
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member.pk, on_duty=False)
    [row] = rows_for(org.member)
    assert (row.action, row.changes, row.actor) == (A.DUTY, {"on_duty": [True, False]}, org.coordinator)
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member.pk, on_duty=False)
    assert len(rows_for(org.member)) == 1


def test_the_actors_name_is_kept_as_it_was(org):
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member.pk, on_duty=False)
    name = org.coordinator.name
    Staff.objects.filter(pk=org.coordinator.pk).update(name="改名后")
    assert rows_for(org.member)[0].actor_name == name


def test_pausing_and_resuming_the_robot_write_one_row_each(org):
    routing_services.robot_set_paused(actor=org.coordinator, paused=True, reason="系统维护")
    routing_services.robot_set_paused(actor=org.coordinator, paused=False, reason="维护结束")
    rows = rows_for(RobotSettings.load())
    assert [(r.action, r.changes, r.reason) for r in reversed(rows)] == [
        (A.PAUSED, {"paused": [False, True]}, "系统维护"),
        (A.RESUMED, {"paused": [True, False]}, "维护结束"),
    ]


def test_registering_a_taxpayer_writes_a_created_row_with_its_fields(org):
    taxpayer = taxpayer_register(
        actor=org.clerk, credit_code=credit_code(4321), name="新登记商贸有限公司", competent_branch_code="SRC1"
    )
    [row] = rows_for(taxpayer)
    assert (row.action, row.actor) == (A.CREATED, org.clerk)
    assert row.changes["name"] == [None, "新登记商贸有限公司"]
    assert row.changes["competent_branch"] == [None, str(org.source)]


def test_a_refused_registration_writes_nothing(org):
    with pytest.raises(Exception):  # noqa: B017 (InvalidInput: the bad code)
        taxpayer_register(actor=org.clerk, credit_code="bad", name="x", competent_branch_code="SRC1")
    assert not ChangeLog.objects.exists()


def _admin_save(user, obj, **changes):
    """Save `obj` through its ModelAdmin as the admin's change view does."""
    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().post("/")
    request.user = user
    form_class = model_admin.get_form(request, obj, change=True)
    initial = form_class(instance=obj)
    data = {name: initial[name].value() for name in initial.fields}
    data = {name: value for name, value in data.items() if value is not None}
    data.update(changes)
    form = form_class(data, instance=type(obj).objects.get(pk=obj.pk))
    assert form.is_valid(), form.errors
    saved = form.save(commit=False)
    model_admin.save_model(request, saved, form, True)
    model_admin.save_related(request, form, [], True)
    return saved


@pytest.fixture
def superuser(org):
    user = org.admin.user
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_an_admin_edit_of_capacity_and_teams_writes_one_row(org, superuser):
    _admin_save(superuser, org.member, capacity=7, teams=[org.online.pk, org.hub.pk])
    [row] = rows_for(org.member)
    assert row.action == A.CHANGED and row.actor == org.admin
    assert row.changes["capacity"] == [org.member.capacity, 7]
    assert set(row.changes) == {"capacity", "teams"}


def test_an_admin_save_without_a_change_writes_nothing(org, superuser):
    _admin_save(superuser, org.online)
    assert rows_for(org.online) == []


def test_admin_edits_of_teams_branches_and_taxpayers_are_recorded(org, superuser, taxpayer):
    _admin_save(superuser, org.online, name="线上办理一组")
    _admin_save(superuser, org.hall, name="第一办税服务厅")
    _admin_save(superuser, taxpayer, name="改名后的纳税人")
    assert rows_for(org.online)[0].changes == {"name": ["线上办理团队", "线上办理一组"]}
    assert rows_for(org.hall)[0].changes["name"][1] == "第一办税服务厅"
    assert rows_for(Taxpayer.objects.get(pk=taxpayer.pk))[0].changes["name"][1] == "改名后的纳税人"


def test_an_admin_delete_is_recorded_with_the_object_as_it_was(org, superuser):
    team = Team.objects.create(code="TMP", name="临时组", kind=Team.Kind.BASIC, tier=org.basic.tier, branch=org.source)
    pk = team.pk
    model_admin = admin.site._registry[Team]
    request = RequestFactory().post("/")
    request.user = superuser
    model_admin.delete_model(request, team)
    row = ChangeLog.objects.get(content_type=ContentType.objects.get_for_model(Team), object_id=pk)
    assert (row.action, row.object_label, row.changes["code"]) == (A.DELETED, "临时组", ["TMP", None])


def test_the_admin_change_view_records_the_edit(client, org, superuser):
    client.force_login(superuser)
    url = f"/admin/org/branch/{org.hall.pk}/change/"
    data = {
        "code": org.hall.code,
        "name": "改名的办税厅",
        "kind": org.hall.kind,
        "parent": org.hall.parent_id,
        "home_hall": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Branch.objects.get(pk=org.hall.pk).name == "改名的办税厅"
    assert rows_for(org.hall)[0].changes["name"] == [org.hall.name, "改名的办税厅"]


def test_the_api_lists_changes_for_administrators_only(api, org):
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member.pk, on_duty=False)
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member2.pk, on_duty=False)
    body = api(org.admin).get("/api/v1/changes/", {"type": "org.staff", "id": org.member.pk}).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert (row["type"], row["object_id"], row["action"], row["changes"]) == (
        "org.staff",
        org.member.pk,
        "duty",
        {"on_duty": [True, False]},
    )
    assert api(org.admin).get("/api/v1/changes/", {"type": "org.staff"}).json()["count"] == 2
    for person in (org.coordinator, org.clerk, org.chief):
        assert api(person).get("/api/v1/changes/").status_code == 403
    bad = api(org.admin).get("/api/v1/changes/", {"type": "nope.nothing", "id": "x"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"type", "id"}


def test_the_api_refuses_anonymous_callers(client, db):
    assert client.get("/api/v1/changes/").status_code == 401


def test_the_taxpayer_page_and_the_robot_page_show_their_change_log(client, org):
    taxpayer = taxpayer_register(
        actor=org.clerk, credit_code=credit_code(4322), name="页面展示有限公司", competent_branch_code="SRC1"
    )
    client.force_login(org.coordinator.user)
    page = client.get(f"/taxpayers/{taxpayer.credit_code}/").content.decode()
    assert 'id="change-log"' in page and org.clerk.name in page
    routing_services.robot_set_paused(actor=org.coordinator, paused=True, reason="夜间盘点暂停")
    page = client.get("/middle-office/hub/robot/").content.decode()
    assert 'id="change-log"' in page and "夜间盘点暂停" in page
    routing_services.staff_set_duty(actor=org.coordinator, staff_id=org.member.pk, on_duty=False)
    page = client.get("/middle-office/hub/staff/").content.decode()
    assert 'id="change-log"' in page and org.member.name in page
    assert changes_for(org.member).total == 1
