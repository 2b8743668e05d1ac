"""The chief's desk (分局长统筹): the branch's open work by team, person and state, each
figure equal to the list it links to; a chief never sees another branch's work; dispatch
and reassign never default to the chief; rebalancing is all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from taxservice.org.models import Role, Team, Tier
from taxservice.workflow.cases import desk, services
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.cases.services import BulkRefused
from tests.factories import StaffFactory, TaxpayerFactory, TeamFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

DESK = reverse("back_office:desk")
LIST = reverse("back_office:desk_tasks")


def joint_task(org, open_case, *, to: str = "queued", holder=None) -> Task:
    """A 一问联办 task in branch A's basic team, brought to `to` (queued, assigned, in_progress)."""
    task = services.task_transition(task_id=open_case("joint").tasks.get().pk, actor=org.clerk, name="transfer")
    holder = holder or org.back_member
    if to in ("assigned", "in_progress"):
        task = services.task_transition(task_id=task.pk, actor=holder, name="assign")
    if to == "in_progress":
        task = services.task_transition(task_id=task.pk, actor=holder, name="accept")
    assert task.state == to and task.team == org.basic
    return task


def branch_b_task(org, items) -> Task:
    taxpayer = TaxpayerFactory(competent_branch=org.source2)
    case = services.case_open(
        actor=org.clerk,
        taxpayer=taxpayer.credit_code,
        channel="hall_window",
        hall=org.hall2.code,
        items=[services.RequestedItem(item=items["joint"].code)],
    )
    task = services.task_transition(task_id=case.tasks.get().pk, actor=org.clerk, name="transfer")
    task = services.task_transition(task_id=task.pk, actor=org.back_member2, name="assign")
    assert task.team == org.basic2
    return task


@pytest.fixture
def work(org, open_case, items):
    """Branch A: one queued, one held, one overdue and one at risk; branch B: one held."""
    now = timezone.now()
    queued = joint_task(org, open_case)
    held = joint_task(org, open_case, to="assigned")
    late = joint_task(org, open_case, to="in_progress")
    Task.objects.filter(pk=late.pk).update(due_at=now - dt.timedelta(hours=2))
    risky = joint_task(org, open_case, to="in_progress")
    Task.objects.filter(pk=risky.pk).update(
        clock_at_risk_at=now - dt.timedelta(hours=1), clock_due_at=now + dt.timedelta(hours=3)
    )
    other = branch_b_task(org, items)
    return {"queued": queued, "held": held, "late": late, "risky": risky, "other": other}


def _list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert not response.context["filtered"].problems, (url, response.context["filtered"].problems)
    return response.context["page"].paginator.count


def test_every_figure_equals_the_count_of_the_list_it_links_to(client, org, work):
    client.force_login(org.chief.user)
    summary = client.get(DESK).context["summary"]
    assert (summary.total.open, summary.total.overdue, summary.total.at_risk) == (4, 1, 1)
    figures = [summary.total, *summary.by_team, *summary.by_person, *summary.by_state]
    checked = 0
    for figure in figures:
        for count, link in (
            (figure.open, figure.open_link),
            (figure.overdue, figure.overdue_link),
            (figure.at_risk, figure.at_risk_link),
        ):
            assert _list_count(client, link) == count, (figure.key, link)
            checked += 1
    assert checked >= 3 * 9
    basic = next(figure for figure in summary.by_team if figure.key == org.basic.code)
    assert (basic.open, basic.overdue, basic.at_risk) == (4, 1, 1)
    person = next(figure for figure in summary.by_person if figure.label == org.back_member.name)
    assert person.open == 3 and person.extra["capacity"] == org.back_member.capacity
    queued = next(figure for figure in summary.by_state if figure.key == TaskState.QUEUED)
    assert queued.open == 1


def test_the_desk_page_shows_the_figures_as_links_in_chinese(client, org, work):
    client.force_login(org.chief.user)
    page = client.get(DESK, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "分局长统筹台" in page and "已超期" in page
    assert f'href="{LIST}?team={org.basic.code}&amp;due=overdue"' in page


def test_a_chief_sees_only_their_branch_and_gets_404_for_another_branchs_task(client, org, work):
    client.force_login(org.chief.user)
    summary = client.get(DESK).context["summary"]
    assert org.basic2.code not in {figure.key for figure in summary.by_team}
    assert org.back_member2.name not in {figure.label for figure in summary.by_person}
    listed = client.get(LIST).context["page"].paginator.count
    assert listed == 4
    assert f"T{work['other'].pk}<" not in client.get(LIST).content.decode()
    # A filter naming the other branch's team finds nothing there, and says nothing of it.
    assert _list_count_loose(client, f"{LIST}?team={org.basic2.code}") == 0
    url = reverse("back_office:desk_assign", args=[work["other"].pk])
    response = client.post(url, {"transition": "reassign", "assignee": org.back_member.pk, "reason": "x"})
    assert response.status_code == 404
    assert Task.objects.get(pk=work["other"].pk).assignee == org.back_member2
    # The other chief sees theirs.
    client.force_login(org.chief2.user)
    assert client.get(DESK).context["summary"].total.open == 1


def _list_count_loose(client, url: str) -> int:
    return client.get(url).context["page"].paginator.count


def test_who_may_use_the_desk(client, org, work):
    coordination = TeamFactory(
        code="SRC1-COORD", name="统筹团队", kind=Team.Kind.COORDINATION, tier=Tier.BACK, branch=org.source
    )
    member = StaffFactory(
        user__username="coord-member", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[coordination]
    )
    for staff, status in ((org.chief, 200), (member, 200), (org.admin, 200), (org.back_member, 403), (org.clerk, 403)):
        client.force_login(staff.user)
        assert client.get(DESK).status_code == status, staff.user.username
    client.force_login(member.user)
    assert client.get(DESK).context["summary"].total.open == 4  # the coordination team sees the branch
    client.force_login(org.admin.user)
    assert client.get(DESK).context["summary"].total.open == 5  # administrators: every branch


def test_dispatch_and_reassign_never_default_to_the_chief(client, org, work):
    client.force_login(org.chief.user)
    page = client.get(LIST)
    rows = {task.pk: task for task in page.context["page"].object_list}
    for key, step in (("queued", "assign"), ("held", "reassign")):
        form = rows[work[key].pk].desk_form
        assert form.step == step
        choices = form.fields["assignee"].choices
        assert str(choices[0][1]) in ("Choose a person…", "请选择人员…")  # not "Myself" (我自己)
        offered = {pk for _group, people in choices[1:] for pk, _label in people}
        assert org.chief.pk not in offered and org.back_member.pk in offered or step == "reassign"
        assert form.fields["assignee"].widget.attrs.get("required") == "required"
    # Posted without a person: refused, the task untouched (the service would have taken the chief).
    url = reverse("back_office:desk_assign", args=[work["queued"].pk])
    client.post(url, {"transition": "assign", "expected_state": "queued", "next": LIST})
    task = Task.objects.get(pk=work["queued"].pk)
    assert task.state == TaskState.QUEUED and task.assignee is None
    # With a person: dispatched to them.
    client.post(url, {"transition": "assign", "expected_state": "queued", "assignee": org.back_member.pk})
    task = Task.objects.get(pk=work["queued"].pk)
    assert task.state == TaskState.ASSIGNED and task.assignee == org.back_member


def test_rebalance_moves_all_or_nothing(client, org, open_case, work):
    other_member = StaffFactory(
        user__username="back3", name="后台郑", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[org.basic]
    )
    moving = [work["held"].pk, work["late"].pk]
    # The queued task cannot be reassigned: the whole move is refused and names it.
    with pytest.raises(BulkRefused) as refused:
        desk.rebalance(
            actor=org.chief,
            task_ids=[*moving, work["queued"].pk],
            assignee_ids=[other_member.pk],
            reason="均衡工作量",
        )
    assert [r.task_id for r in refused.value.refusals] == [work["queued"].pk]
    assert set(Task.objects.filter(pk__in=moving).values_list("assignee_id", flat=True)) == {org.back_member.pk}
    # Through the page: moved, shared out among the chosen people.
    client.force_login(org.chief.user)
    client.post(
        reverse("back_office:desk_rebalance"),
        {"task_ids": moving, "assignee_ids": [other_member.pk], "reason": "均衡工作量"},
    )
    assert set(Task.objects.filter(pk__in=moving).values_list("assignee_id", flat=True)) == {other_member.pk}


def test_rebalance_refuses_a_task_of_another_branch_and_moves_nothing(org, work):
    with pytest.raises(BulkRefused):
        desk.rebalance(
            actor=org.chief,
            task_ids=[work["held"].pk, work["other"].pk],
            assignee_ids=[org.back_member.pk],
            reason="均衡",
        )
    assert Task.objects.get(pk=work["other"].pk).assignee == org.back_member2


def test_the_desk_reads_a_fixed_number_of_queries(client, org, open_case, work, django_assert_max_num_queries):
    client.force_login(org.chief.user)
    client.get(DESK)  # warm the session and the calendar
    with django_assert_max_num_queries(20) as few:
        client.get(DESK)
    for _ in range(6):
        joint_task(org, open_case, to="assigned")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(DESK)
    assert response.context["summary"].total.open == 10
