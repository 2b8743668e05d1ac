"""Grid tasks (网格兜底): the routing target "the taxpayer's grid", and a coordinator's bulk
creation for a selection, dispatched in the grid's group through the pipeline's decision records."""

from __future__ import annotations

import pytest

from taxservice.catalogue.models import HandlingList
from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.org.models import Team, Tier
from taxservice.workflow.cases.models import Task, TaskIntake, TaskState
from taxservice.workflow.routing.grid_tasks import grid_tasks_create
from taxservice.workflow.routing.models import DispatchDecision, HubAlert, RoutingRule, Target
from taxservice.workflow.routing.services import task_intake
from tests.factories import ItemFactory, StaffFactory, TaxpayerFactory
from tests.grid_support import make_grids, taxpayer_in

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


@pytest.fixture
def grids(org):
    return make_grids(org)


@pytest.fixture
def reminder(db):
    """A grid item: a reminder to file (催报), for the taxpayer to respond to."""
    return ItemFactory(
        code="G001",
        name="逾期申报提醒",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.GRID,
        team_kind=Team.Kind.GRID,
        time_limit_days=3,
    )


def test_the_shipped_grid_rule_targets_the_taxpayers_grid(db):
    rule = RoutingRule.objects.get(name="网格兜底办")
    assert rule.target == Target.TAXPAYER_GRID and rule.version == 2
    assert rule.changes.get(version=2).before["target"] == "competent_branch"


def test_screening_sends_a_grid_item_to_the_taxpayers_grid_group(org, grids, reminder):
    payer = taxpayer_in(grids.g2)
    task, merged = task_intake(actor=org.coordinator, source="grid", taxpayer=payer.credit_code, item="G001")
    assert not merged and task.team == grids.g2.team and task.tier == Tier.GRID
    assert task.transitions.get(transition="transfer").details["team"] == "GT2"


def test_a_taxpayer_without_a_grid_goes_to_the_hub_flagged(org, grids, reminder):
    payer = TaxpayerFactory(competent_branch=org.source)
    task, _ = task_intake(actor=org.coordinator, source="grid", taxpayer=payer.credit_code, item="G001")
    assert task.team == org.hub and task.state == TaskState.QUEUED
    # As for a rule naming no team: stored as the hub's "no rule" alert.
    assert HubAlert.objects.filter(task=task, kind="no_rule", resolved_at__isnull=True).exists()
    assert task.transitions.get(transition="transfer").details["team"] == "HUB"


def test_a_coordinator_creates_grid_tasks_for_a_selection_and_each_is_dispatched(org, grids, reminder):
    c1 = taxpayer_in(grids.g1, grade="C")
    c2 = taxpayer_in(grids.g1, grade="C")
    taxpayer_in(grids.g1, grade="A")  # not selected: another grade
    taxpayer_in(grids.g2, grade="C")  # not selected: another grid
    second = StaffFactory(
        user__username="gm1b", home_branch=org.source, roles=["team_member"], teams=[grids.g1.team], capacity=5
    )

    result = grid_tasks_create(
        actor=org.coordinator, grid_id=grids.g1.pk, item="G001", grades=["C"], notes="请按期申报"
    )

    assert result.selected == 2 and len(result.created) == 2 and not result.merged
    tasks = Task.objects.filter(pk__in=result.created).order_by("taxpayer__credit_code")
    assert {t.taxpayer_id for t in tasks} == {c1.pk, c2.pk}
    for task in tasks:
        assert task.source == "grid" and task.team == grids.g1.team and task.state == TaskState.ASSIGNED
        assert task.assignee_id in {grids.m1.pk, second.pk}
        decision = DispatchDecision.objects.get(task=task)
        assert decision.actor == org.coordinator and decision.team == grids.g1.team
        assert decision.outcome == DispatchDecision.Outcome.ASSIGNED and decision.chosen_id == task.assignee_id
        assert TaskIntake.objects.get(task=task).batch == result.batch
    # Run again: the open tasks absorb the new intakes, nothing is created twice.
    again = grid_tasks_create(actor=org.coordinator, grid_id=grids.g1.pk, item="G001", grades=["C"])
    assert not again.created and sorted(again.merged) == sorted(result.created)


def test_a_task_screening_sends_elsewhere_is_rerouted_to_the_grid(org, grids, reminder):
    RoutingRule.objects.filter(name="网格兜底办").update(active=False)
    RoutingRule.objects.create(
        name="别处", priority=5, match_item=reminder, target=Target.CITY, team_kind="online_processing"
    )
    payer = taxpayer_in(grids.g3)
    result = grid_tasks_create(actor=org.coordinator, grid_id=grids.g3.pk, item="G001")
    task = Task.objects.get(pk=result.created[0])
    assert result.rerouted == 1 and task.team == grids.g3.team and task.assignee == grids.m3
    assert task.taxpayer == payer
    assert list(task.transitions.values_list("transition", flat=True).order_by("at", "id")) == [
        "receive",
        "transfer",
        "reroute",
        "assign",
    ]


def test_the_selection_is_checked_before_any_work(org, grids, reminder):
    for _ in range(3):
        taxpayer_in(grids.g1)
    outsider = taxpayer_in(grids.g2)
    not_a_grid_item = ItemFactory(code="X001")
    cases = [
        ({"limit": 2}, "selection_too_large"),
        ({"item": not_a_grid_item.code}, "item_not_eligible"),
        ({"credit_codes": [outsider.credit_code]}, "not_in_grid"),
        ({"grades": ["D"]}, "empty_selection"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidInput) as refused:
            grid_tasks_create(actor=org.coordinator, grid_id=grids.g1.pk, **{"item": "G001", **kwargs})
        assert refused.value.code == code
    with pytest.raises(ActionForbidden):
        grid_tasks_create(actor=grids.m1, grid_id=grids.g1.pk, item="G001")
    assert not Task.objects.exists()


def test_an_explicit_list_of_codes_selects_those_taxpayers(org, grids, reminder):
    a, _b = taxpayer_in(grids.g1), taxpayer_in(grids.g1)
    result = grid_tasks_create(
        actor=org.coordinator, grid_id=grids.g1.pk, item="G001", credit_codes=[a.credit_code.lower()]
    )
    assert [Task.objects.get(pk=pk).taxpayer for pk in result.created] == [a]


def test_the_api_creates_grid_tasks_and_answers_errors_with_a_code(api, org, grids, reminder, items):
    payer = taxpayer_in(grids.g1, grade="C")
    url = f"/api/v1/grids/{grids.g1.pk}/tasks/"
    client = api(org.coordinator)
    created = client.post(url, {"item": "G001", "grades": ["C"], "notes": "催报"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["selected"] == 1 and body["dispatched_now"] == 1 and body["grid"] == "G1"
    assert Task.objects.get(pk=body["created"][0]).taxpayer == payer
    merged = client.post(url, {"item": "G001"}, format="json").json()
    assert merged["merged"] == body["created"] and merged["created"] == []
    wrong = client.post(url, {"item": "I001"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "item_not_eligible"
    empty = client.post(url, {"item": "G001", "grades": ["D"]}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "empty_selection"
    assert client.post(url, {}, format="json").json()["code"] == "invalid"
    # Grid staff may see the grid but not create tasks; another grid is not theirs at all.
    assert api(grids.m1).post(url, {"item": "G001"}, format="json").status_code == 403
    assert api(grids.m3).post(url, {"item": "G001"}, format="json").status_code == 404
