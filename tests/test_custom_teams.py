"""Custom teams (专属团队): a chief or administrator adds one, names it, adds members; a routing
rule that names it sends exclusive items there, where the robot dispatches at random."""

from __future__ import annotations

import pytest

from taxservice.changes.models import ChangeLog
from taxservice.errors import ActionForbidden, InvalidInput, NotFound
from taxservice.org.models import Role, Team, Tier
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.routing import services, teams
from taxservice.workflow.routing.models import DispatchDecision
from tests.factories import StaffFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def test_a_chief_adds_a_custom_team_to_their_branch_with_members_audited(org):
    team = teams.team_create(actor=org.chief, branch="", name="出口退税专属团队", members=[org.back_member.pk])
    assert (team.kind, team.tier, team.branch, team.name) == (
        Team.Kind.CUSTOM,
        Tier.BACK,
        org.source,
        "出口退税专属团队",
    )
    assert list(team.members.all()) == [org.back_member]
    assert team.code == "SRC1-CUSTOM1"
    log = ChangeLog.objects.get(content_type__model="team", object_id=team.pk)
    assert (log.action, log.actor) == ("created", org.chief)
    extra = StaffFactory(roles=[Role.TEAM_MEMBER], home_branch=org.source)
    teams.team_add_members(actor=org.admin, team_id=team.pk, members=[extra.pk])
    assert set(team.members.all()) == {org.back_member, extra}


def test_refusals_write_nothing(org):
    with pytest.raises(NotFound):
        teams.team_create(actor=org.chief2, branch=org.source.code, name="x")
    with pytest.raises(ActionForbidden):
        teams.team_create(actor=org.coordinator, branch=org.source.code, name="x")
    with pytest.raises(InvalidInput) as refused:
        teams.team_create(actor=org.chief, branch=org.source.code, name=" ", members=[org.back_member2.pk])
    assert set(refused.value.fields) == {"name", "members"}
    with pytest.raises(InvalidInput) as hall:
        teams.team_create(actor=org.admin, branch=org.hall.code, name="窗口团队")
    assert "branch" in hall.value.fields
    team = teams.team_create(actor=org.chief, branch=org.source.code, name="专属")
    with pytest.raises(InvalidInput) as twice:
        teams.team_create(actor=org.chief, branch=org.source.code, name="专属")
    assert "name" in twice.value.fields
    with pytest.raises(NotFound):
        teams.team_add_members(actor=org.chief2, team_id=team.pk, members=[org.back_member2.pk])
    assert Team.objects.filter(kind=Team.Kind.CUSTOM).count() == 1
    assert not team.members.exists()


def test_a_rule_naming_the_team_sends_exclusive_items_there_for_random_dispatch(
    org, items, open_case, django_capture_on_commit_callbacks
):
    member = StaffFactory(roles=[Role.TEAM_MEMBER], home_branch=org.source, user__username="excl")
    team = teams.team_create(actor=org.chief, branch=org.source.code, name="专属团队", members=[member.pk])
    services.rule_save(
        actor=org.admin,
        changes={
            "name": "清税注销专属",
            "priority": 5,
            "match_item": items["joint"].code,
            "target": "team",
            "team": team.code,
            "chooser": "random",
            "auto_dispatch": True,
        },
        reason="专属事项由专属团队办理",
    )
    task = open_case("joint").tasks.get()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    task.refresh_from_db()
    assert (task.team, task.assignee, task.state) == (team, member, "assigned")
    assert DispatchDecision.objects.get(task=task).chooser == "random"


def test_the_api_adds_a_team(org, api):
    created = api(org.chief).post(
        "/api/v1/teams/", {"name": "大企业专属团队", "members": [org.back_member.pk]}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["kind"], body["branch"], [m["id"] for m in body["members"]]) == (
        "custom",
        "SRC1",
        [org.back_member.pk],
    )
    listed = api(org.chief).get("/api/v1/teams/").json()
    assert body["id"] in [row["id"] for row in listed["results"]]
    assert org.basic2.pk not in [row["id"] for row in listed["results"]]
    other = api(org.chief2).post("/api/v1/teams/", {"name": "x", "branch": "SRC1"}, format="json")
    assert other.status_code == 404
    bad = api(org.chief).post("/api/v1/teams/", {"name": ""}, format="json")
    assert bad.status_code == 400
    assert api(org.back_member).post("/api/v1/teams/", {"name": "y"}, format="json").status_code == 403
    assert Team.objects.filter(kind=Team.Kind.CUSTOM).count() == 1


def test_the_page_lists_teams_and_adds_one_keeping_typed_words(org, client):
    client.force_login(org.chief.user)
    page = client.get("/teams/")
    assert page.status_code == 200 and org.basic.name in page.content.decode()
    assert org.basic2.name not in page.content.decode()
    refused = client.post("/teams/", {"branch": "SRC1", "name": "基础团队", "members": [org.back_member.pk]})
    assert refused.status_code == 400 and "基础团队" in refused.content.decode()
    added = client.post("/teams/", {"branch": "SRC1", "name": "专属团队", "members": [org.back_member.pk]})
    assert added.status_code == 302
    assert Team.objects.get(kind=Team.Kind.CUSTOM).name == "专属团队"
    client.force_login(org.back_member.user)
    assert client.get("/teams/").status_code == 403
