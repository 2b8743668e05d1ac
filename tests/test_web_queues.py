"""The middle-office queue, the approval queue and my tasks: who sees what, one-click steps."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Task, TaskTransition

pytestmark = pytest.mark.django_db


def _transferred(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return task


def _awaiting_approval(open_case, org):
    """A 一问联办 item routed to the competent branch's basic team and submitted by org.back_member."""
    task = _transferred(open_case, org, "joint")
    for name in ("assign", "accept"):
        services.task_transition(task_id=task.pk, actor=org.back_member, name=name)
    services.task_transition(
        task_id=task.pk, actor=org.back_member, name="submit_for_approval", result="实地核查无异常"
    )
    return task


def test_the_queue_shows_a_transferred_assisted_item_to_its_team_only(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.member.user)
    page = client.get(reverse("middle_office:queue")).content.decode()
    assert f"T{task.pk}" in page and "跨区域涉税事项报告" in page and "分派给我" in page
    client.force_login(org.back_member2.user)
    response = client.get(reverse("middle_office:queue"))
    assert response.status_code == 200
    # A word of its own: a random CSRF token can contain "T1".
    assert not re.search(rf"\bT{task.pk}\b", response.content.decode())
    assert "队列中没有符合条件的任务" in response.content.decode()


def test_assign_to_me_from_the_queue(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.member.user)
    queue = reverse("middle_office:queue") + "?state=queued"
    response = client.post(
        reverse("task_step", args=[task.pk]),
        {"transition": "assign", "expected_state": "queued", "next": queue},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == queue
    assert "分派：已完成" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "assigned" and task.assignee == org.member
    # An assigned task of my team stays on the queue, now with "accept" for me.
    page = client.get(reverse("middle_office:queue")).content.decode()
    assert f"T{task.pk}" in page and 'value="accept"' in page


def test_assign_to_me_ignores_a_posted_assignee_for_team_members(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.member.user)
    client.post(
        reverse("task_step", args=[task.pk]),
        {"transition": "assign", "expected_state": "queued", "assignee": org.member2.pk},
    )
    task.refresh_from_db()
    assert task.assignee == org.member


def test_the_queue_filters_by_state_team_and_list(client, org, open_case):
    queued = _transferred(open_case, org)
    client.force_login(org.coordinator.user)
    by_list = client.get(reverse("middle_office:queue"), {"handling_list": "joint"}).content.decode()
    assert f"T{queued.pk}<" not in by_list
    by_team = client.get(reverse("middle_office:queue"), {"team": org.online.pk, "state": "queued"}).content.decode()
    assert f"T{queued.pk}<" in by_team


def test_a_refused_one_click_step_comes_back_as_a_message(client, org, open_case):
    task = _transferred(open_case, org)
    services.task_transition(task_id=task.pk, actor=org.member2, name="assign")
    client.force_login(org.member.user)
    response = client.post(
        reverse("task_step", args=[task.pk]),
        {"transition": "assign", "expected_state": "queued", "next": reverse("middle_office:queue")},
        follow=True,
    )
    assert "他人已先处理了此任务" in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == org.member2


def test_the_approval_queue_shows_the_branch_chief_their_branch_only(client, org, open_case):
    task = _awaiting_approval(open_case, org)
    client.force_login(org.chief.user)
    page = client.get(reverse("back_office:approvals")).content.decode()
    assert f"T{task.pk}" in page and "实地核查无异常" in page and 'value="approve"' in page
    client.force_login(org.chief2.user)
    assert f"T{task.pk}" not in client.get(reverse("back_office:approvals")).content.decode()


def test_approve_from_the_approval_queue(client, org, open_case):
    task = _awaiting_approval(open_case, org)
    client.force_login(org.chief.user)
    response = client.post(
        reverse("task_step", args=[task.pk]),
        {
            "transition": "approve",
            "expected_state": "awaiting_approval",
            "reason": "同意",
            "next": reverse("back_office:approvals"),
        },
        follow=True,
    )
    assert "审批通过：已完成" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "done"
    log = task.transitions.get(transition="approve")
    assert log.actor == org.chief and log.reason == "同意"


def test_reject_needs_an_opinion(client, org, open_case):
    task = _awaiting_approval(open_case, org)
    client.force_login(org.chief.user)
    url = reverse("task_step", args=[task.pk])
    approvals = reverse("back_office:approvals")
    refused = client.post(
        url,
        {"transition": "reject", "expected_state": "awaiting_approval", "reason": "", "next": approvals},
        follow=True,
    )
    assert "此步骤必须填写理由" in refused.content.decode()
    task.refresh_from_db()
    assert task.state == "awaiting_approval"
    client.post(
        url,
        {"transition": "reject", "expected_state": "awaiting_approval", "reason": "核查记录不全", "next": approvals},
    )
    task.refresh_from_db()
    assert task.state == "in_progress"
    assert task.transitions.get(transition="reject").reason == "核查记录不全"


def test_my_tasks_lists_my_open_tasks_with_their_steps(client, org, open_case):
    mine = _transferred(open_case, org)
    services.task_transition(task_id=mine.pk, actor=org.member, name="assign")
    other = _transferred(open_case, org, "approval")
    client.force_login(org.member.user)
    response = client.get(reverse("my_tasks"))
    assert [task.pk for task in response.context["page"].object_list] == [mine.pk]
    assert 'value="accept"' in response.content.decode()
    assert f"T{other.pk}<" not in response.content.decode()


def test_the_home_page_counts_my_work(client, org, open_case):
    mine = _transferred(open_case, org)
    services.task_transition(task_id=mine.pk, actor=org.member, name="assign")
    _transferred(open_case, org, "approval")
    client.force_login(org.member.user)
    counts = client.get(reverse("home")).context["counts"]
    assert (counts.my_open, counts.team_queue, counts.approvals, counts.open_cases) == (1, 1, None, None)


def test_the_queue_takes_a_fixed_number_of_queries(client, org, open_case, django_assert_max_num_queries):
    for _ in range(15):
        case = open_case("assisted", "approval")
        for task in case.tasks.all():
            services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    assert Task.objects.filter(state="queued").count() == 30
    client.force_login(org.member.user)
    # 12: ten for the queue, one for the top bar's unread-notification count, one for the
    # calendar's overrides (the countdowns).
    with django_assert_max_num_queries(13):
        response = client.get(reverse("middle_office:queue"))
    assert len(response.context["page"].object_list) == 25
    with django_assert_max_num_queries(13):
        response = client.get(reverse("middle_office:queue"), {"page": 2})
    assert len(response.context["page"].object_list) == 5


def test_the_approval_queue_takes_a_fixed_number_of_queries(client, org, open_case, django_assert_max_num_queries):
    for _ in range(3):
        _awaiting_approval(open_case, org)
    client.force_login(org.chief.user)
    # 15: ten as the queue's, the calendar's overrides, the count of the other tab
    # (extension requests) a branch chief sees, the filter bar's choices (one UNION), and
    # the page's assignments and logs that the four-eyes rule reads (two prefetches).
    with django_assert_max_num_queries(15):
        response = client.get(reverse("back_office:approvals"))
    assert len(response.context["page"].object_list) == 3
    assert TaskTransition.objects.exists()


def test_a_coordinator_is_not_offered_assign_to_me_on_another_teams_task(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.coordinator.user)
    response = client.get(reverse("middle_office:queue"))
    row = next(t for t in response.context["page"].object_list if t.pk == task.pk)
    assert "assign" in row.allowed  # allowed: on the task page, naming a member
    assert [form.step for form in row.quick] == [] and row.has_more_steps
