"""The transition contract: every transition is declared once, and every front end agrees.

The specs in `taxservice/workflow/cases/transitions.py` drive the FSM calls, the policy,
the service's inputs, the browser's forms, the API's request and its schema. These tests
hold each derived piece to the specs, and drive every transition the API offers through
the API itself.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django_fsm import FSMField

from taxservice import access
from taxservice.web.forms import AssigneeChoices, PeopleGroup, Person, TransitionForm
from taxservice.workflow.cases import selectors, transitions
from taxservice.workflow.cases.models import Case, CaseTransition, Task, TaskTransition
from tests.test_services_transitions import PATHS, drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def _fsm_transition_methods() -> set[str]:
    field = next(f for f in Task._meta.fields if isinstance(f, FSMField))
    return {t.name for t in field.get_all_transitions(Task)}


def test_every_spec_names_an_fsm_method_and_every_fsm_method_has_a_spec():
    assert {spec.method for spec in transitions.TRANSITIONS.values()} == _fsm_transition_methods()


@pytest.mark.parametrize("name", transitions.NAMES)
def test_every_spec_has_a_label_a_policy_entry_and_a_form(name):
    spec = transitions.TRANSITIONS[name]
    assert transitions.label(name) and transitions.label(name) != name
    assert spec.roles, "nobody could make it"
    # As a supervisor sees it: with people to name (others take a task only themselves).
    people = AssigneeChoices(
        groups=[PeopleGroup(team="线上办理团队", people=[Person(2, "甲 · 线上办理团队 (0/20)", True)])], myself=True
    )
    form = TransitionForm(step=name, task=Task(state="received"), assignees=people, teams=[])
    # The form shows exactly the spec's inputs, required ones marked for the browser.
    shown = [field for field in transitions.INPUT_KINDS if field in form.fields]
    assert shown == [field for field in transitions.INPUT_KINDS if field in spec.inputs]
    for field, spec_input in spec.inputs.items():
        assert ("required" in form.fields[field].widget.attrs) == spec_input.required


def test_every_spec_has_its_own_request_shape_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    # Request components carry drf-spectacular's "Request" suffix (COMPONENT_SPLIT_REQUEST).
    mapping = components["TransitionRequest"]["discriminator"]["mapping"]
    assert set(mapping) == set(transitions.NAMES)
    for name, spec in transitions.TRANSITIONS.items():
        component = components[mapping[name].rsplit("/", 1)[-1]]
        assert set(component["properties"]) == {"transition", "expected_state", *spec.inputs}
        assert set(component.get("required", [])) == {"transition", *spec.required}


def _inputs_for(org, person, task: Task, name: str) -> dict:
    """What a careful client sends for a step: every input of the spec, sensibly filled
    (someone else's name only where the caller may name others: otherwise they take it)."""
    spec = transitions.TRANSITIONS[name]
    values: dict = {"transition": name}
    for field in spec.inputs:
        if field == "assignee" and not spec.inputs[field].required and not access.can_assign_others(person):
            continue
        if field == "assignee":
            team = task.team_id
            values["assignee"] = next(
                person.pk
                for person in (org.member, org.member2, org.dispatched_member, org.back_member)
                if team is None or person.teams.filter(pk=team).exists()
                if person.pk != task.assignee_id
            )
        elif field == "team":
            values["team"] = org.hub.code if task.team_id != org.hub.pk else org.online.code
        elif field == "channel":
            values["channel"] = "phone_12366"
        elif field == "days":
            values["days"] = 1
        else:
            values[field] = "按规定办理"
    return values


@pytest.mark.parametrize("state", list(PATHS))
def test_the_api_performs_every_transition_it_offers(org, open_case, api, state):
    """For every staff member, every transition `available_transitions` lists is accepted
    by `POST …/transitions/` (each tried in a savepoint that is rolled back)."""
    # Items of each shape that can be in the state (an item needing approval never reaches
    # done by `complete`; only 一问即办 items are handled on the spot).
    kinds = {
        "received": ["assisted", "approval", "immediate"],
        "queued": ["assisted", "approval"],
        "assigned": ["assisted", "approval"],
        "in_progress": ["assisted", "approval"],
        "awaiting_approval": ["approval"],
    }.get(state, ["assisted"])
    staff = [value for value in vars(org).values() if hasattr(value, "roles")]
    tried = 0
    for kind in kinds:
        task = drive(org, open_case(kind).tasks.get(), state)
        for person in staff:
            offered = api(person).get(f"/api/v1/tasks/{task.pk}/")
            if offered.status_code == 404:
                continue
            for name in offered.json()["available_transitions"]:
                with transaction.atomic():
                    response = api(person).post(
                        f"/api/v1/tasks/{task.pk}/transitions/", _inputs_for(org, person, task, name), format="json"
                    )
                    assert response.status_code == 200, (person.name, name, response.json())
                    assert TaskTransition.objects.filter(task=task).latest("id").transition == name
                    transaction.set_rollback(True)
                tried += 1
    if state not in ("closed", "cancelled"):
        assert tried, f"nothing was offered to anyone in {state}"


def test_the_api_reroutes_with_a_team(org, open_case, api):
    task = drive(org, open_case("assisted").tasks.get(), "queued")
    response = api(org.coordinator).post(
        f"/api/v1/tasks/{task.pk}/transitions/",
        {"transition": "reroute", "team": org.hub.code, "reason": "需人工研判"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["team"] == org.hub.code


def test_a_missing_required_input_answers_its_code_whether_absent_or_blank(org, open_case, api):
    task = drive(org, open_case("assisted").tasks.get(), "queued")
    url = f"/api/v1/tasks/{task.pk}/transitions/"
    for body in ({"transition": "reroute", "reason": "x"}, {"transition": "reroute", "reason": "x", "team": " "}):
        response = api(org.coordinator).post(url, body, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "team_required"
        assert response.json()["fields"] == {"team": ["必填。"]} or "team" in response.json()["fields"]
    assert Task.objects.get(pk=task.pk).state == "queued"


def test_offered_steps_match_the_policy_for_every_staff_member(org, open_case):
    task = drive(org, open_case("assisted").tasks.get(), "in_progress")
    for person in [value for value in vars(org).values() if hasattr(value, "roles")]:
        offered = set(selectors.allowed_transitions(staff=person, task=task))
        for name in offered:
            assert person.has_role("admin") or person.has_role(*transitions.TRANSITIONS[name].roles)


def test_closing_the_last_task_closes_the_case_with_an_audit_row(org, open_case):
    case = open_case("immediate")
    task = case.tasks.get()
    assert list(CaseTransition.objects.filter(case=case).values_list("transition", "to_state")) == [("open", "open")]
    from taxservice.workflow.cases import services

    services.task_transition(task_id=task.pk, actor=org.clerk, name="handle_on_spot", result="当场办结")
    assert Case.objects.get(pk=case.pk).state == "closed"
    closing = CaseTransition.objects.filter(case=case).latest("id")
    assert (closing.transition, closing.from_state, closing.to_state) == ("close", "open", "closed")
    assert closing.actor == org.clerk
    assert closing.details == {"last_task": task.pk}


def test_a_transition_on_an_id_that_is_no_number_is_a_json_404(org, api):
    response = api(org.coordinator).post("/api/v1/tasks/abc/transitions/", {"transition": "accept"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
