"""A grid member of grid X cannot see grid Y's taxpayers' cases unless the task is theirs."""

from __future__ import annotations

import pytest

from taxservice import access
from taxservice.catalogue.models import HandlingList
from taxservice.org.models import Team, Tier
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import Task
from taxservice.workflow.cases.services import RequestedItem, case_open, task_transition
from tests.factories import ItemFactory
from tests.grid_support import make_grids, taxpayer_in


@pytest.fixture
def grids(org):
    return make_grids(org)


@pytest.fixture
def world(org, grids, items):
    ItemFactory(
        code="G001",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.GRID,
        team_kind=Team.Kind.GRID,
        time_limit_days=3,
    )
    mine, theirs = taxpayer_in(grids.g1), taxpayer_in(grids.g2)

    def case_of(payer, *codes):
        return case_open(
            actor=org.clerk,
            taxpayer=payer.credit_code,
            channel="hall_window",
            hall=org.hall.code,
            items=[RequestedItem(item=code) for code in codes],
        )

    return {
        # A joint item of each taxpayer: it goes to their branch's basic team, not to a grid.
        "mine": case_of(mine, "J001"),
        "theirs": case_of(theirs, "J001"),
    }


def _visible_tasks(staff):
    return set(selectors.task_list_for_staff(staff=staff).values_list("pk", flat=True))


def _visible_cases(staff):
    return set(selectors.case_list_for_staff(staff=staff).values_list("pk", flat=True))


def _transfer(task, actor):
    return task_transition(task_id=task.pk, actor=actor, name="transfer")


def test_grid_staff_see_their_grids_taxpayers_cases_and_not_the_rest_of_the_branch(org, grids, world):
    for case in world.values():
        _transfer(case.tasks.get(), org.clerk)
    mine, theirs = world["mine"].tasks.get(), world["theirs"].tasks.get()
    assert mine.team == theirs.team == org.basic  # one branch, one basic team, two grids

    assert _visible_tasks(grids.m1) == {mine.pk}
    assert _visible_cases(grids.m1) == {world["mine"].pk}
    assert _visible_tasks(grids.m2) == {theirs.pk}
    # Someone of the branch who is not grid staff still sees the branch's work.
    assert {mine.pk, theirs.pk} <= _visible_tasks(org.back_member)
    # Predicate and queryset agree.
    for person in (grids.m1, grids.m2, grids.m3):
        for task in Task.objects.select_related("team", "case", "taxpayer__grid"):
            assert access.can_see_task(person, task) == (task.pk in _visible_tasks(person))


def test_a_task_they_hold_or_their_group_holds_is_visible_whoever_the_taxpayer(org, grids, world):
    theirs = world["theirs"].tasks.get()
    _transfer(theirs, org.clerk)
    assert theirs.pk not in _visible_tasks(grids.m1)
    task_transition(task_id=theirs.pk, actor=org.coordinator, name="reroute", team_code="GT1", reason="网格协办")
    assert theirs.pk in _visible_tasks(grids.m1)  # their group's queue
    assert world["theirs"].pk in _visible_cases(grids.m1)
    task_transition(task_id=theirs.pk, actor=org.coordinator, name="assign", assignee_id=grids.m1.pk, reason="指派")
    assert theirs.pk in _visible_tasks(grids.m1)


def test_a_grid_member_with_another_team_or_a_wider_role_keeps_the_branch_view(org, grids, world):
    grids.m1.teams.add(org.basic)
    refreshed = type(grids.m1).objects.get(pk=grids.m1.pk)
    assert not access.is_grid_only(refreshed)
    for case in world.values():
        _transfer(case.tasks.get(), org.clerk)
    assert len(_visible_tasks(refreshed)) == 2


def test_the_grid_pages_follow_the_same_rule(client, org, grids):
    client.force_login(grids.m1.user)
    assert client.get("/grids/G1/").status_code == 200
    assert client.get("/grids/G2/").status_code == 404
    listed = client.get("/grids/").content.decode()
    assert "G1" in listed and "第2网格" not in listed
    client.force_login(org.chief2.user)
    assert client.get("/grids/G3/").status_code == 200 and client.get("/grids/G1/").status_code == 404
    client.force_login(org.clerk.user)
    assert client.get("/grids/").status_code == 403
