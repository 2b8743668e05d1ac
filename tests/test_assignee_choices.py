"""The "assign to" lists (issue #13, defect 5): only people the service accepts, grouped by
team, on duty first, with their load; the off-duty ones marked and not choosable; a text
filter over the list; the same on the hub's bulk bar."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.urls import reverse

from taxservice.errors import ServiceError
from taxservice.org.models import Role, Team, Tier
from taxservice.web.queries import assignee_choices
from taxservice.workflow.cases import services
from tests.browser import BROWSER_MARKS, shot, sign_in
from tests.factories import StaffFactory, TeamFactory

pytestmark = pytest.mark.django_db


class _RolledBack(Exception):
    pass


def _accepted(task, actor, assignee_id) -> bool:
    """Would the service let `actor` assign the task to this person? Nothing is kept."""
    try:
        with transaction.atomic():
            services.task_transition(task_id=task.pk, actor=actor, name="assign", assignee_id=assignee_id)
            raise _RolledBack
    except _RolledBack:
        return True
    except ServiceError:
        return False


def _queued(org, open_case, key):
    task = open_case(key).tasks.get()
    return services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")


@pytest.fixture
def crowd(org):
    """A front-desk team with a handler in it, an off-duty member, and a member of two teams."""
    desk = TeamFactory(code="H01-WIN", name="窗口团队", kind=Team.Kind.HALL, tier=Tier.FRONT, branch=org.hall)
    StaffFactory(user__username="window", name="窗口何", home_branch=org.hall, roles=[Role.TEAM_MEMBER], teams=[desk])
    org.member2.on_duty = False
    org.member2.save(update_fields=["on_duty"])
    org.back_member.teams.add(org.online)  # 后台孙 works in the basic team and online
    # A chief and an administrator who are members of a team still hold no tasks.
    org.chief.teams.add(org.basic)
    org.admin.teams.add(org.online)
    return desk


def _people(choices):
    return [(group.team, [(p.label, p.on_duty) for p in group.people]) for group in choices.groups]


def test_a_team_task_offers_the_handlers_of_its_team_on_duty_first(org, open_case, crowd):
    task = _queued(org, open_case, "assisted")  # in the online team
    choices = assignee_choices(staff=org.coordinator, task=task)
    assert _people(choices) == [
        (
            "线上办理团队 · 中台",
            [
                ("中台王 · 线上办理团队 (0/20)", True),
                ("后台孙 · 线上办理团队 (0/20)", True),
                ("中台赵 · 线上办理团队 (0/20) · 离岗", False),
            ],
        )
    ]
    # The coordinator is no member of the online team: "myself" would be refused.
    assert not choices.myself
    assert not _accepted(task, org.coordinator, None)
    assert assignee_choices(staff=org.member, task=task) is None  # a member only takes it themselves


def test_a_task_at_the_coordination_post_offers_every_team_but_the_front_desks(org, open_case, crowd):
    task = _queued(org, open_case, "immediate")  # no rule covers it: it waits at the hub
    assert task.team_id is None or task.team.kind == Team.Kind.COORDINATION_POST
    choices = assignee_choices(staff=org.coordinator, task=task)
    groups = dict(_people(choices))
    assert list(groups) == ["第一分局派驻组 · 中台", "线上办理团队 · 中台", "基础团队 · 后台", "基础团队二 · 后台"]
    assert [label for label, _ in groups["基础团队 · 后台"]] == ["后台孙 · 基础团队 (0/20)"]
    # Once in each of their teams, never twice in one.
    everyone = [label.split(" · ")[0] for people in groups.values() for label, _ in people]
    assert everyone.count("后台孙") == 2
    for people in groups.values():
        assert len(people) == len(set(people))
    for name in ("窗口何", "前台张", "统筹李", "分局长吴", "专家冯", "管理员", "接口", "质检陈"):
        assert name not in everyone
    assert choices.myself  # any on-duty person may hold a task at the post


@pytest.mark.parametrize("key", ["assisted", "immediate", "joint"])
def test_the_list_never_offers_someone_the_service_refuses(org, open_case, crowd, key):
    task = _queued(org, open_case, key)
    supervisor = org.chief if key == "joint" else org.coordinator
    choices = assignee_choices(staff=supervisor, task=task)
    offered = {p.pk for group in choices.groups for p in group.people if p.on_duty}
    shown_off_duty = {p.pk for group in choices.groups for p in group.people if not p.on_duty}
    assert offered
    for pk in offered:
        assert _accepted(task, supervisor, pk), pk
    for pk in shown_off_duty:
        assert not _accepted(task, supervisor, pk), pk
    assert choices.myself == _accepted(task, supervisor, None)


def test_the_task_page_groups_the_people_marks_the_off_duty_and_offers_a_filter(client, org, open_case, crowd):
    task = _queued(org, open_case, "assisted")
    client.force_login(org.coordinator.user)
    page = client.get(reverse("task_detail", args=[task.pk])).content.decode()
    select = re.search(r'<select name="assignee"[^>]*>.*?</select>', page, re.S)[0]
    assert "data-people-filter=" in select and 'required="required"' in select
    assert '<optgroup label="线上办理团队 · 中台">' in select
    assert re.search(
        rf'<option value="{org.member2.pk}" disabled>中台赵 · 线上办理团队 \(0/20\) · 离岗</option>', select
    )
    assert f'<option value="{org.member.pk}">中台王 · 线上办理团队 (0/20)</option>' in select
    assert "js/people-filter.js" in page
    # Without a choice the form says so, and nothing changes.
    response = client.post(
        reverse("task_step", args=[task.pk]), {"transition": "assign", "expected_state": "queued", "assignee": ""}
    )
    assert response.status_code == 400 and "请选择把任务分派给谁。" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "queued"


def test_the_hub_bulk_list_offers_only_people_who_hold_tasks(client, org, open_case, crowd):
    _queued(org, open_case, "assisted")
    client.force_login(org.coordinator.user)
    page = client.get(reverse("middle_office:hub")).content.decode()
    select = re.search(r'<select name="assignee"[^>]*>.*?</select>', page, re.S)[0]
    assert "data-people-filter=" in select
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups == ["第一分局派驻组 · 中台", "线上办理团队 · 中台", "基础团队 · 后台", "基础团队二 · 后台"]
    for name in ("窗口何", "前台张", "统筹李", "分局长吴", "专家冯", "管理员", "接口", "质检陈"):
        assert name not in select
    assert re.search(rf'<option value="{org.member2.pk}" disabled>', select)
    assert select.count("后台孙 · ") == 2


def test_the_filter_narrows_the_list_in_the_browser(page, live_server, org, open_case, crowd):
    task = _queued(org, open_case, "immediate")
    base = live_server.url
    sign_in(page, base, "coordinator")
    page.goto(base + f"/tasks/{task.pk}/")
    select = page.locator("#id_assign_assignee")
    page.fill("input.people-filter", "赵")
    visible = select.locator("option:not([hidden])")
    assert visible.all_inner_texts()[1:] == ["中台赵 · 线上办理团队 (0/20) · 离岗"]
    assert select.locator("optgroup:not([hidden])").count() == 1
    page.fill("input.people-filter", "后台 基础团队二")
    assert visible.all_inner_texts()[1:] == ["后台周 · 基础团队二 (0/20)"]
    assert select.input_value() == str(org.back_member2.pk)  # a single match is chosen
    page.fill("input.people-filter", "")
    shot(page, "48-assign-to-list")
    page.fill("input.people-filter", "基础")
    shot(page, "49-assign-to-filtered")
    page.goto(base + "/middle-office/hub/")
    assert page.locator("#bulk-form input.people-filter").count() == 1
    shot(page, "50-hub-assign-to")


for _mark in BROWSER_MARKS:  # a browser test among page tests: the browser modules' marks
    test_the_filter_narrows_the_list_in_the_browser = _mark(test_the_filter_narrows_the_list_in_the_browser)
