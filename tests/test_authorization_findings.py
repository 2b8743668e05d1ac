"""Issue #15's findings 2–5 on acting where one does not belong: seeing a task is not
acting on it; clerks cancel only what is still at the counter; the API shows no more
than the web. (Finding 1, four eyes over the whole history, and finding 2, assignment
only to people who work tasks: tests/test_back_office_core.py.)"""

from __future__ import annotations

import pytest

from taxservice.errors import ActionForbidden
from taxservice.org.models import Role
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import Task, TaskState, TaskTransition
from tests.factories import StaffFactory

S = TaskState


def step(task, actor, name, **kwargs):
    return services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)


@pytest.fixture
def back_task(org, open_case):
    """A 一问联办 task in the first branch's basic team, in progress with its member."""
    task = open_case("joint").tasks.get()
    step(task, org.clerk, "transfer")
    step(task, org.chief, "assign", assignee_id=org.back_member.pk)
    return step(task, org.back_member, "accept")


@pytest.fixture
def city_member(org):
    return StaffFactory(home_branch=org.city, roles=[Role.TEAM_MEMBER], teams=[org.online])


def test_city_team_members_see_a_branchs_task_but_do_not_act_on_it(org, back_task, city_member):
    step(back_task, org.back_member, "request_materials", reason="补正材料")
    task = Task.objects.get(pk=back_task.pk)
    assert selectors.task_get_for_staff(staff=city_member, task_id=task.pk) is not None
    for who in (city_member, org.expert):
        assert selectors.allowed_transitions(staff=who, task=task) == []
        with pytest.raises(ActionForbidden):
            step(task, who, "receive_materials")
    assert Task.objects.get(pk=task.pk).state == S.AWAITING_MATERIALS


def test_city_team_members_act_on_their_own_teams_tasks(org, open_case, city_member):
    task = open_case("assisted").tasks.get()
    step(task, org.clerk, "transfer")
    task.refresh_from_db()
    assert task.team == org.online
    assert step(task, city_member, "assign").assignee == city_member


def test_a_clerk_cancels_only_what_has_not_been_transferred(org, open_case, back_task):
    rows = TaskTransition.objects.count()
    with pytest.raises(ActionForbidden):
        step(back_task, org.clerk, "cancel", reason="纳税人撤回")
    assert TaskTransition.objects.count() == rows
    fresh = open_case("assisted").tasks.get()
    assert step(fresh, org.clerk, "cancel", reason="纳税人撤回").state == S.CANCELLED
    assert step(back_task, org.chief, "cancel", reason="纳税人撤回").state == S.CANCELLED


@pytest.mark.parametrize("path", ["/api/v1/staff/", "/api/v1/routing/rules/", "/api/v1/hub/queue/"])
@pytest.mark.parametrize("who", ["clerk", "integrator", "inspector", "member", "chief"])
def test_the_api_shows_the_hub_only_to_whom_the_web_does(org, api, path, who):
    refused = api(getattr(org, who)).get(path)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert api(org.coordinator).get(path).status_code == 200
