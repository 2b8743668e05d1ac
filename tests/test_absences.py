"""Conflicts of interest (回避) and leave, declared in the product: services, API, page, dispatch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from taxservice.changes.models import ChangeLog
from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Role
from taxservice.workflow.routing import dispatch, services
from taxservice.workflow.routing.models import StaffConflict, StaffLeave
from tests.factories import StaffFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def today() -> dt.date:
    return timezone.localdate()


# --- services ---------------------------------------------------------------------------------


def test_a_chief_declares_a_conflict_for_their_staff_with_a_reason_audited(org, taxpayer):
    row = services.conflict_declare(
        actor=org.chief, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="亲属在该企业任职"
    )
    assert (row.staff, row.taxpayer, row.reason, row.declared_by, row.withdrawn_at) == (
        org.back_member,
        taxpayer,
        "亲属在该企业任职",
        org.chief,
        None,
    )
    log = ChangeLog.objects.get(object_id=row.pk, content_type__model="staffconflict")
    assert (log.action, log.actor, log.reason) == ("created", org.chief, "亲属在该企业任职")


def test_a_withdrawn_conflict_stays_recorded_and_no_longer_filters(org, taxpayer):
    row = services.conflict_declare(
        actor=org.admin, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="曾任该企业财务"
    )
    services.conflict_withdraw(actor=org.chief, staff_id=org.back_member.pk, conflict_id=row.pk, reason="已离职五年")
    row.refresh_from_db()
    assert (row.withdrawn_by, row.withdrawal_reason) == (org.chief, "已离职五年")
    assert row.withdrawn_at is not None
    with pytest.raises(TransitionNotAllowed) as again:
        services.conflict_withdraw(actor=org.chief, staff_id=org.back_member.pk, conflict_id=row.pk)
    assert again.value.code == "already_withdrawn"
    # Declared again after the withdrawal: a new row, the old one kept.
    services.conflict_declare(
        actor=org.chief, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="再次回避"
    )
    assert StaffConflict.objects.filter(staff=org.back_member).count() == 2


@pytest.mark.parametrize(
    ("taxpayer_code", "reason", "field"),
    [("", "亲属关系", "taxpayer"), ("91000000000000000X", "亲属关系", "taxpayer"), ("OWN", "  ", "reason")],
)
def test_a_conflict_needs_a_known_taxpayer_and_a_reason_and_bad_input_writes_nothing(
    org, taxpayer, taxpayer_code, reason, field
):
    code = taxpayer.credit_code if taxpayer_code == "OWN" else taxpayer_code
    with pytest.raises(InvalidInput) as refused:
        services.conflict_declare(actor=org.chief, staff_id=org.back_member.pk, taxpayer=code, reason=reason)
    assert field in refused.value.fields
    assert not StaffConflict.objects.exists()
    assert not ChangeLog.objects.filter(content_type__model="staffconflict").exists()


def test_a_duplicate_conflict_is_refused(org, taxpayer):
    services.conflict_declare(actor=org.chief, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="a")
    with pytest.raises(InvalidInput) as refused:
        services.conflict_declare(
            actor=org.chief, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="b"
        )
    assert refused.value.code == "conflict_exists"
    assert StaffConflict.objects.count() == 1


def test_leave_ends_on_or_after_it_starts_and_never_overlaps(org):
    start = today() + dt.timedelta(days=3)
    with pytest.raises(InvalidInput) as backwards:
        services.leave_declare(
            actor=org.chief,
            staff_id=org.back_member.pk,
            starts_on=start,
            ends_on=start - dt.timedelta(days=1),
            reason="年假",
        )
    assert "ends_on" in backwards.value.fields
    first = services.leave_declare(
        actor=org.chief,
        staff_id=org.back_member.pk,
        starts_on=start,
        ends_on=start + dt.timedelta(days=4),
        reason="年假",
    )
    assert services.leave_overlaps(
        staff_id=org.back_member.pk, starts_on=start + dt.timedelta(days=4), ends_on=start + dt.timedelta(days=9)
    )
    with pytest.raises(InvalidInput) as overlapping:
        services.leave_declare(
            actor=org.chief,
            staff_id=org.back_member.pk,
            starts_on=start + dt.timedelta(days=4),
            ends_on=start + dt.timedelta(days=6),
            reason="病假",
        )
    assert overlapping.value.code == "leave_overlaps"
    assert StaffLeave.objects.count() == 1
    # Withdrawn, the period is free again.
    services.leave_withdraw(actor=org.admin, staff_id=org.back_member.pk, leave_id=first.pk, reason="取消休假")
    services.leave_declare(
        actor=org.chief,
        staff_id=org.back_member.pk,
        starts_on=start + dt.timedelta(days=4),
        ends_on=start + dt.timedelta(days=6),
        reason="病假",
    )
    assert StaffLeave.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_another_branchs_chief_gets_404_and_others_403(org, taxpayer):
    with pytest.raises(NotFound):
        services.conflict_declare(
            actor=org.chief2, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="x"
        )
    with pytest.raises(NotFound):
        services.leave_declare(
            actor=org.chief2, staff_id=org.back_member.pk, starts_on=today(), ends_on=today(), reason="x"
        )
    with pytest.raises(ActionForbidden):
        services.conflict_declare(
            actor=org.coordinator, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="x"
        )
    assert not StaffConflict.objects.exists() and not StaffLeave.objects.exists()


# --- the dispatch filters honour them ---------------------------------------------------------------


def _decide(org, open_case):
    from taxservice.workflow.cases import services as case_services

    task = open_case("joint").tasks.get()
    case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return services.task_dispatch(task_id=task.pk, actor=org.coordinator, seed=7)


def test_the_dispatch_filters_honour_declared_conflicts_and_leave_until_withdrawn(org, open_case, taxpayer):
    other = StaffFactory(roles=[Role.TEAM_MEMBER], teams=[org.basic], home_branch=org.source, user__username="b3")
    conflict = services.conflict_declare(
        actor=org.chief, staff_id=org.back_member.pk, taxpayer=taxpayer.credit_code, reason="亲属关系"
    )
    leave = services.leave_declare(
        actor=org.chief, staff_id=other.pk, starts_on=today(), ends_on=today(), reason="病假"
    )
    decision = _decide(org, open_case)
    removed = {(row["staff"], row["code"]) for row in decision.removed}
    assert (org.back_member.pk, dispatch.REASON_CONFLICT) in removed
    assert (other.pk, dispatch.REASON_ON_LEAVE) in removed
    assert decision.outcome == "no_candidate"
    services.conflict_withdraw(actor=org.chief, staff_id=org.back_member.pk, conflict_id=conflict.pk)
    services.leave_withdraw(actor=org.chief, staff_id=other.pk, leave_id=leave.pk)
    again = services.task_dispatch(task_id=decision.task_id, actor=org.coordinator, seed=7)
    assert again.outcome == "assigned" and again.removed == []


# --- the API -----------------------------------------------------------------------------------


def test_the_api_declares_lists_and_withdraws(org, api, taxpayer):
    client = api(org.chief)
    base = f"/api/v1/staff/{org.back_member.pk}"
    created = client.post(f"{base}/conflicts/", {"taxpayer": taxpayer.credit_code, "reason": "亲属关系"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["taxpayer"] == taxpayer.credit_code and created.json()["active"] is True
    leave = client.post(
        f"{base}/leave/", {"starts_on": str(today()), "ends_on": str(today()), "reason": "年假"}, format="json"
    )
    assert leave.status_code == 201
    listed = client.get(f"{base}/conflicts/").json()
    assert [row["id"] for row in listed["results"]] == [created.json()["id"]]
    assert client.get(f"{base}/leave/").json()["count"] == 1
    withdrawn = client.post(f"{base}/leave/{leave.json()['id']}/withdraw/", {"reason": "取消"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["active"] is False
    again = client.post(f"{base}/leave/{leave.json()['id']}/withdraw/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_withdrawn")


def test_the_api_refuses_bad_input_and_hides_other_branches(org, api, taxpayer):
    base = f"/api/v1/staff/{org.back_member.pk}"
    bad = api(org.chief).post(
        f"{base}/leave/", {"starts_on": "2026-12-10", "ends_on": "2026-12-09", "reason": "年假"}, format="json"
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_period")
    unknown = api(org.chief).post(f"{base}/conflicts/", {"taxpayer": "X", "reason": "r"}, format="json")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_taxpayer")
    assert api(org.chief2).get(f"{base}/conflicts/").status_code == 404
    other = api(org.chief2).post(f"{base}/conflicts/", {"taxpayer": taxpayer.credit_code, "reason": "r"}, format="json")
    assert other.status_code == 404
    assert api(org.back_member).get(f"{base}/leave/").status_code == 403
    assert not StaffConflict.objects.exists() and not StaffLeave.objects.exists()


def test_the_schema_describes_the_endpoints_with_their_errors(org, api):
    schema = api(org.admin).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    post = paths["/api/v1/staff/{staff_id}/conflicts/"]["post"]["responses"]
    assert {"201", "400", "403", "404"} <= set(post)
    assert "/api/v1/staff/{staff_id}/leave/{leave_id}/withdraw/" in paths


# --- the page -----------------------------------------------------------------------------------


def test_the_page_declares_and_keeps_typed_words_on_a_refusal(org, client, taxpayer):
    client.force_login(org.chief.user)
    url = f"/staff/{org.back_member.pk}/absences/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"kind": "conflict", "taxpayer": "NOPE", "reason": "亲属关系在此"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "亲属关系在此" in body and "NOPE" in body
    assert not StaffConflict.objects.exists()
    done = client.post(url, {"kind": "conflict", "taxpayer": taxpayer.credit_code, "reason": "亲属关系"})
    assert done.status_code == 302
    assert taxpayer.name in client.get(url).content.decode()
    leave = client.post(url, {"kind": "leave", "starts_on": str(today()), "ends_on": str(today()), "reason": "年假"})
    assert leave.status_code == 302
    row = StaffLeave.objects.get()
    client.post(f"/staff/{org.back_member.pk}/absences/leave/{row.pk}/withdraw/", {"reason": "取消"})
    row.refresh_from_db()
    assert row.withdrawn_by == org.chief


def test_the_page_is_for_chiefs_of_the_branch_and_administrators(org, client):
    url = f"/staff/{org.back_member.pk}/absences/"
    client.force_login(org.chief2.user)
    assert client.get(url).status_code == 404
    client.force_login(org.back_member.user)
    assert client.get(url).status_code == 403
    client.force_login(org.admin.user)
    assert client.get(url).status_code == 200
