"""Issue #13's rules that live in the core: no lost words, no false offers, visibility by need."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from taxservice import access
from taxservice.errors import InvalidInput
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing.models import HubAlert
from tests.test_services_transitions import drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def _closed_with_feedback(org, open_case) -> Task:
    task = drive(org, open_case("assisted").tasks.get(), "done")  # completed with "已办理"
    return services.task_transition(
        task_id=task.pk, actor=org.member, name="give_feedback", result="已电话告知纳税人", channel="phone_12366"
    )


def test_feedback_never_overwrites_the_handlers_result_on_the_pages_or_the_api(client, api, org, open_case):
    task = _closed_with_feedback(org, open_case)
    body = api(org.coordinator).get(f"/api/v1/tasks/{task.pk}/").json()
    assert (body["result"], body["feedback"]) == ("已办理", "已电话告知纳税人")
    client.force_login(org.coordinator.user)
    for url in (f"/tasks/{task.pk}/", f"/cases/{task.case_id}/"):
        page = client.get(url).content.decode()
        assert "已办理" in page and "已电话告知纳税人" in page, url


def test_the_migration_gives_fed_back_tasks_their_result_and_their_feedback(org, open_case):
    task = _closed_with_feedback(org, open_case)
    # As the old give_feedback left it: the feedback written over the handler's result.
    Task.objects.filter(pk=task.pk).update(result="已电话告知纳税人", feedback="")
    migration = import_module("taxservice.workflow.cases.migrations.0012_split_feedback_from_result")
    migration.split(apps, None)
    task.refresh_from_db()
    assert (task.result, task.feedback) == ("已办理", "已电话告知纳税人")
    migration.merge(apps, None)  # and back: nothing is lost either way
    task.refresh_from_db()
    assert (task.result, task.feedback) == ("已电话告知纳税人", "")


@pytest.mark.parametrize(
    ("state", "step", "field"),
    [
        ("in_progress", "complete", "result"),
        ("in_progress", "request_materials", "reason"),
    ],
)
def test_steps_that_carry_words_refuse_blanks_in_the_service_and_the_api(org, open_case, api, state, step, field):
    task = drive(org, open_case("assisted").tasks.get(), state)
    with pytest.raises(InvalidInput) as refused:
        services.task_transition(task_id=task.pk, actor=org.member, name=step, **{field: "   "})
    assert refused.value.code == f"{field}_required"
    response = api(org.member).post(f"/api/v1/tasks/{task.pk}/transitions/", {"transition": step}, format="json")
    assert response.status_code == 400 and response.json()["code"] == f"{field}_required"
    assert Task.objects.get(pk=task.pk).state == state


def test_an_empty_result_cannot_be_submitted_for_approval(org, open_case):
    task = drive(org, open_case("approval").tasks.get(), "in_progress")
    with pytest.raises(InvalidInput):
        services.task_transition(task_id=task.pk, actor=org.member, name="submit_for_approval", result="")
    assert Task.objects.get(pk=task.pk).state == "in_progress"


def test_the_task_page_keeps_what_was_typed_when_a_step_is_refused(client, org, open_case):
    task = drive(org, open_case("assisted").tasks.get(), "in_progress")
    client.force_login(org.member.user)
    response = client.post(
        f"/tasks/{task.pk}/step/",
        {"transition": "request_materials", "expected_state": "in_progress", "reason": "  "},
    )
    assert response.status_code == 400
    failed = next(form for form in response.context["forms"] if form.step == "request_materials")
    assert failed.errors["reason"]


def test_escalate_is_not_offered_on_a_task_already_in_the_back_office(org, open_case):
    task = drive(org, open_case("joint").tasks.get(), "queued")  # a 一问联办 item goes to the branch's team
    task = services.task_transition(task_id=task.pk, actor=org.back_member, name="assign")
    task = services.task_transition(task_id=task.pk, actor=org.back_member, name="accept")
    assert task.tier == "back"
    assert "escalate" not in selectors.allowed_transitions(staff=org.back_member, task=task)
    middle = drive(org, open_case("assisted").tasks.get(), "in_progress")
    assert "escalate" in selectors.allowed_transitions(staff=org.member, task=middle)


def test_a_manual_reroute_settles_the_tasks_routing_alert(org, open_case):
    task = drive(org, open_case("assisted").tasks.get(), "queued")
    HubAlert.raise_once(task=task, kind=HubAlert.Kind.NO_CANDIDATE, message="无人可派", now=timezone.now())
    assert Task.objects.get(pk=task.pk).has_open_alert
    services.task_transition(
        task_id=task.pk, actor=org.coordinator, name="reroute", team_code=org.hub.code, reason="人工研判"
    )
    assert not Task.objects.get(pk=task.pk).has_open_alert
    assert not HubAlert.objects.filter(task=task, resolved_at__isnull=True).exists()


def test_hall_staff_see_their_halls_cases_and_their_own_work_not_the_whole_branch(org, open_case, taxpayer):
    mine = open_case("assisted")  # accepted at hall 1 by the clerk
    other_hall = open_case("assisted", hall=org.hall2)
    clerk2 = type(org.clerk).objects.create(
        user=type(org.clerk.user).objects.create(username="clerk2"), name="前台二", home_branch=org.hall2
    )
    clerk2.role_rows.create(role="clerk")
    clerk2 = type(org.clerk).objects.get(pk=clerk2.pk)
    hub_task = drive(org, mine.tasks.get(), "queued")
    visible = set(selectors.task_list_for_staff(staff=clerk2).values_list("pk", flat=True))
    # The other hall's clerk sees the case their own hall accepted, not hall 1's or the hub's queue.
    assert visible == {other_hall.tasks.get().pk}
    assert hub_task.pk not in visible
    assert access.can_see_task(org.clerk, hub_task)  # the accepting clerk follows their case


def test_an_api_only_account_cannot_sign_in_to_the_pages(client, org):
    org.integrator.user.set_password("pass12345")
    org.integrator.user.save()
    response = client.post("/login/", {"username": org.integrator.user.username, "password": "pass12345"})
    assert response.status_code == 200  # the form again, with the reason
    assert "_auth_user_id" not in client.session
    client.force_login(org.integrator.user)  # a session from before: the pages still refuse
    assert client.get("/").status_code == 403
    assert client.get("/api/v1/me/").status_code in (200, 401, 403)  # the API is theirs (token auth)


def test_after_a_send_back_the_result_box_holds_what_was_written(client, org, open_case):
    task = drive(org, open_case("approval").tasks.get(), "awaiting_approval")  # submitted with "已核实"
    services.task_transition(task_id=task.pk, actor=org.coordinator, name="reject", reason="请补充核实依据")
    client.force_login(org.member.user)
    forms = {form.step: form for form in client.get(f"/tasks/{task.pk}/").context["forms"]}
    assert forms["submit_for_approval"]["result"].value() == "已核实"
