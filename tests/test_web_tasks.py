"""The task page (one form per allowed step), the case page (full history) and the case list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, TaskTransition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_task_counts_checked")]


def _assigned_to_member(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    return task


def _step(client, task, **data):
    return client.post(reverse("task_step", args=[task.pk]), data)


def test_the_task_page_offers_one_form_per_allowed_step(client, org, open_case):
    task = _assigned_to_member(open_case, org)
    client.force_login(org.member.user)
    response = client.get(reverse("task_detail", args=[task.pk]))
    assert [form.step for form in response.context["forms"]] == ["accept", "return"]
    page = response.content.decode()
    assert 'name="expected_state" value="assigned"' in page
    assert "接单" in page and "退回队列" in page


def test_a_member_accepts_completes_and_gives_feedback_from_the_task_page(client, org, open_case):
    task = _assigned_to_member(open_case, org)
    client.force_login(org.member.user)
    detail = reverse("task_detail", args=[task.pk])
    response = _step(client, task, transition="accept", expected_state="assigned")
    assert response.status_code == 302 and response["Location"] == detail
    _step(client, task, transition="complete", expected_state="in_progress", result="已办理完毕")
    response = _step(
        client, task, transition="give_feedback", expected_state="done", result="已电话告知", channel="phone_12366"
    )
    task.refresh_from_db()
    assert task.state == "closed" and task.feedback_channel == "phone_12366"
    assert Case.objects.get(pk=task.case_id).state == Case.State.CLOSED
    page = client.get(response["Location"]).content.decode()
    assert "反馈纳税人：已完成" in page and "已电话告知" in page


def test_a_missing_reason_is_shown_on_the_form_and_nothing_changes(client, org, open_case):
    task = _assigned_to_member(open_case, org)
    client.force_login(org.member.user)
    response = _step(client, task, transition="return", expected_state="assigned", reason="")
    assert response.status_code == 400
    failed = next(form for form in response.context["forms"] if form.step == "return")
    assert failed.errors["reason"] == ["必填。"]
    assert "此步骤必须填写理由" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "assigned"
    assert not TaskTransition.objects.filter(task=task, transition="return").exists()


def test_a_stale_page_gets_the_conflict_message_and_changes_nothing(client, org, open_case):
    task = _assigned_to_member(open_case, org)
    client.force_login(org.member.user)
    _step(client, task, transition="accept", expected_state="assigned")
    count = TaskTransition.objects.filter(task=task).count()
    # The same button again, from a page that still shows "assigned".
    response = _step(client, task, transition="accept", expected_state="assigned")
    assert response.status_code == 400
    assert "他人已先处理了此任务：当前状态为“办理中”" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "in_progress"
    assert TaskTransition.objects.filter(task=task).count() == count
    # The page is re-rendered for the current state, with fresh forms.
    assert 'name="expected_state" value="in_progress"' in response.content.decode()


def test_a_coordinator_assigns_to_a_team_member(client, org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.coordinator.user)
    response = client.get(reverse("task_detail", args=[task.pk]))
    assign = next(form for form in response.context["forms"] if form.step == "assign")
    # Not "myself": the coordinator is no member of the online team (the service would refuse).
    (_, blank), *groups = assign.fields["assignee"].choices
    assert blank != "本人"
    assert [label for _, people in groups for _, label in people] == [
        "中台王 · 线上办理团队 (0/20)",
        "中台赵 · 线上办理团队 (0/20)",
    ]
    _step(client, task, transition="assign", expected_state="queued", assignee=org.member2.pk)
    task.refresh_from_db()
    assert task.assignee == org.member2
    assert task.transitions.get(transition="assign").actor == org.coordinator


def test_team_members_only_take_tasks_themselves(client, org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.member.user)
    response = client.get(reverse("task_detail", args=[task.pk]))
    assign = next(form for form in response.context["forms"] if form.step == "assign")
    assert "assignee" not in assign.fields
    assert "分派给我" in response.content.decode()


def test_tasks_and_cases_of_others_are_not_found(client, org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.back_member2.user)
    assert client.get(reverse("task_detail", args=[task.pk])).status_code == 404
    assert client.get(reverse("case_detail", args=[task.case_id])).status_code == 404
    assert _step(client, task, transition="assign", expected_state="queued").status_code == 404
    task.refresh_from_db()
    assert task.state == "queued"


def test_the_case_page_lists_every_task_with_its_full_history(client, org, open_case):
    case = open_case("assisted", "immediate", hall=org.hall2)
    assisted = case.tasks.get(item__code="A001")
    immediate = case.tasks.get(item__code="I001")
    services.task_transition(task_id=immediate.pk, actor=org.clerk, name="handle_on_spot", result="当场发放")
    services.task_transition(task_id=assisted.pk, actor=org.clerk, name="transfer")
    services.task_transition(task_id=assisted.pk, actor=org.member, name="assign")
    services.task_transition(task_id=assisted.pk, actor=org.member, name="return", reason="非本团队业务")
    services.task_transition(task_id=assisted.pk, actor=None, name="assign", assignee_id=org.member2.pk)
    client.force_login(org.clerk.user)
    response = client.get(reverse("case_detail", args=[case.pk]))
    page = response.content.decode()
    histories = {task.pk: task.history for task in response.context["tasks"]}
    assert [row.step for row in histories[assisted.pk]] == ["受理", "转办", "分派", "退回队列", "分派"]
    assert [row.actor for row in histories[assisted.pk]] == ["前台张", "前台张", "中台王", "中台王", "系统"]
    returned = histories[assisted.pk][3]
    assert (returned.from_state, returned.to_state, returned.reason) == ("已分派", "排队中", "非本团队业务")
    assert ("原承办人", "中台王") in returned.details
    assert ("团队", "线上办理团队") in histories[assisted.pk][1].details
    assert ("办理结果", "当场发放") in histories[immediate.pk][1].details
    assert "异厅通办" in page and "非本团队业务" in page and "系统" in page and "第二办税厅" in page


def test_the_case_list_searches_by_taxpayer_code_or_name(client, org, open_case, taxpayer):
    case = open_case("assisted")
    client.force_login(org.clerk.user)
    assert [c.pk for c in client.get(reverse("case_list"), {"q": taxpayer.credit_code[:10]}).context["page"]] == [
        case.pk
    ]
    assert [c.pk for c in client.get(reverse("case_list"), {"q": taxpayer.name[-4:]}).context["page"]] == [case.pk]
    assert list(client.get(reverse("case_list"), {"q": "没有这家"}).context["page"]) == []
    assert list(client.get(reverse("case_list"), {"state": "closed"}).context["page"]) == []


def test_the_case_list_takes_a_fixed_number_of_queries(client, org, open_case, django_assert_max_num_queries):
    for _ in range(30):
        open_case("assisted", "immediate")
    client.force_login(org.clerk.user)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("case_list"))
    page = response.context["page"]
    assert len(page.object_list) == 25 and page.paginator.count == 30
    assert "未办结 2 / 共 2" in response.content.decode()
    with django_assert_max_num_queries(10):
        response = client.get(reverse("case_list"), {"page": 2})
    assert len(response.context["page"].object_list) == 5


def test_a_coordinator_sends_a_queued_task_to_another_team_with_a_reason(client, org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.coordinator.user)
    page = client.get(reverse("task_detail", args=[task.pk]))
    reroute = next(form for form in page.context["forms"] if form.step == "reroute")
    assert org.dispatched.code in dict(reroute.fields["team"].choices)
    assert org.online.code not in dict(reroute.fields["team"].choices)  # not back where it is
    _step(client, task, transition="reroute", expected_state="queued", team=org.dispatched.code, reason="属地优先")
    task.refresh_from_db()
    assert task.team == org.dispatched
    history = client.get(reverse("case_detail", args=[task.case_id])).context["tasks"][0].history
    assert history[-1].reason == "属地优先"
    assert ("原团队", "线上办理团队") in history[-1].details


def test_the_approver_decides_in_one_form(client, org, open_case):
    task = open_case("joint").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    for name in ("assign", "accept"):
        services.task_transition(task_id=task.pk, actor=org.back_member, name=name)
    services.task_transition(
        task_id=task.pk, actor=org.back_member, name="submit_for_approval", result="实地核查无异常"
    )
    client.force_login(org.chief.user)
    page = client.get(reverse("task_detail", args=[task.pk]))
    assert page.context["approval_pair"]
    assert page.content.decode().count('class="step-form step-decide') == 1
    response = _step(client, task, transition="reject", expected_state="awaiting_approval", reason="")
    assert response.status_code == 400 and "必填" in response.content.decode()
    _step(client, task, transition="approve", expected_state="awaiting_approval", reason="")
    task.refresh_from_db()
    assert task.state == "done"
