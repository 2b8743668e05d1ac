"""The coordinator's dashboard: hub queue and facets, bulk actions, robot, staff, uploads, rules."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.routing import services as routing_services
from taxservice.workflow.routing.models import (
    DispatchDecision,
    HubAlert,
    RobotRun,
    RobotSettings,
    RoutingRule,
    RoutingRuleChange,
    UploadBatch,
)
from tests.factories import TaxpayerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_task_counts_checked")]

HUB = "middle_office:hub"
SCREENS = [
    ("middle_office:hub", []),
    ("middle_office:robot", []),
    ("middle_office:staff", []),
    ("middle_office:uploads", []),
    ("middle_office:upload_template", []),
    ("middle_office:rules", []),
    ("middle_office:rule_new", []),
]


def _transferred(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    return services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")


def _pushed(org, item, source="risk"):
    task, _merged = routing_services.task_intake(
        actor=org.integrator,
        source=source,
        taxpayer=TaxpayerFactory(competent_branch=org.source).credit_code,
        item=item.code,
    )
    return task


def _age(task, **delta):
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - dt.timedelta(**delta))


def _due(task, **delta):
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() + dt.timedelta(**delta))


@pytest.fixture
def coordinator(client, org):
    client.force_login(org.coordinator.user)
    return client


@pytest.fixture
def mixed_queue(org, items, open_case):
    """Queued tasks across teams, sources, ages, due dates, alerts; and some assigned ones."""
    online = [_transferred(open_case, org) for _ in range(3)]
    joint = [_transferred(open_case, org, "joint") for _ in range(2)]
    risk = [_pushed(org, items["assisted"], "risk") for _ in range(2)]
    grid = _pushed(org, items["assisted"], "grid")
    uncovered = _transferred(open_case, org, "immediate")  # no rule: the hub, with an alert
    _age(online[0], days=2)
    _age(joint[0], days=5)
    _age(risk[0], hours=30)
    _due(online[1], hours=-2)
    _due(risk[1], minutes=1)
    _due(grid, days=20)
    assigned = [_transferred(open_case, org) for _ in range(2)]
    for task in assigned:
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    return {"online": online, "joint": joint, "risk": risk, "grid": grid, "uncovered": uncovered, "assigned": assigned}


# --- access ---------------------------------------------------------------------------------


def test_every_hub_screen_needs_a_login(client, org):
    for name, args in SCREENS:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login") + "?next="), name


def test_every_hub_screen_is_for_coordinators_and_admins_only(client, org):
    rule = RoutingRule.objects.first()
    screens = [*SCREENS, ("middle_office:rule_edit", [rule.pk])]
    for who in ("member", "clerk", "chief", "expert", "inspector"):
        client.force_login(getattr(org, who).user)
        for name, args in screens:
            response = client.get(reverse(name, args=args))
            assert response.status_code == 403, (who, name)
            assert "此页面仅供" in response.content.decode()
    for who in ("coordinator", "admin"):
        client.force_login(getattr(org, who).user)
        for name, args in screens:
            assert client.get(reverse(name, args=args)).status_code == 200, (who, name)


def test_posts_from_members_are_refused_and_change_nothing(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.member.user)
    response = client.post(reverse(HUB), {"action": "assign", "tasks": [task.pk], "assignee": org.member.pk})
    assert response.status_code == 403
    response = client.post(reverse("middle_office:robot"), {"paused": "true", "reason": "x"})
    assert response.status_code == 403
    response = client.post(reverse("middle_office:staff_duty", args=[org.member2.pk]), {"on_duty": "false"})
    assert response.status_code == 403
    task.refresh_from_db()
    org.member2.refresh_from_db()
    assert (task.state, RobotSettings.load().paused, org.member2.on_duty) == ("queued", False, True)


def test_the_navigation_shows_the_hub_to_coordinators_only(client, org):
    client.force_login(org.coordinator.user)
    page = client.get(reverse(HUB)).content.decode()
    assert f'href="{reverse(HUB)}" class="active"' in page
    # The queue's entry is a prefix of the hub's address, but only the hub is lit.
    assert f'href="{reverse("middle_office:queue")}" class="active"' not in page
    client.force_login(org.member.user)
    assert reverse(HUB) not in client.get(reverse("home")).content.decode()


# --- the hub queue ------------------------------------------------------------------------------


def _facet_links(response):
    return [(facet["name"], link) for facet in response.context["facets"] for link in facet["links"]]


def _count_behind(client, href):
    response = client.get(reverse(HUB) + href)
    assert response.status_code == 200
    return response.context["page"].paginator.count


@pytest.mark.parametrize(
    "start",
    [
        {},
        {"team": "ONLINE"},
        {"source": "risk"},
        {"due": "overdue", "state": "queued"},
        {"state": "assigned"},
        {"alerts": "on", "age": "lt1"},
        {"tier": "back"},
    ],
)
def test_every_facet_count_equals_the_list_its_link_opens(coordinator, mixed_queue, start):
    response = coordinator.get(reverse(HUB), start)
    links = _facet_links(response)
    assert links
    for name, link in links:
        if link["active"] and name != "state":
            continue  # the active value's link clears the filter
        assert _count_behind(coordinator, link["href"]) == link["count"], (start, name, link["label"])


def test_the_facets_count_what_the_queue_holds(coordinator, org, mixed_queue):
    response = coordinator.get(reverse(HUB))
    facets = {
        facet["name"]: {link["value"]: link["count"] for link in facet["links"]} for facet in response.context["facets"]
    }
    assert facets["state"]["queued"] == 9 and facets["state"]["assigned"] == 2
    assert facets["team"] == {"ONLINE": 6, "SRC1-BASIC": 2, "HUB": 1}
    assert facets["source"] == {"front_desk": 6, "risk": 2, "grid": 1}
    assert facets["age"] == {"lt1": 6, "1to3": 2, "gt3": 1}
    # The 一问即办 item at the hub was transferred after all: it has its own limit from receipt
    # (Item.transfer_limit_days), so it is not overdue a minute after its transfer.
    assert facets["due"]["overdue"] == 1 and facets["due"]["today"] + facets["due"]["later"] == 8
    assert facets["alerts"] == {"true": 1}
    assert response.context["page"].paginator.count == 9


def test_tasks_with_an_open_alert_come_first_with_their_message(coordinator, mixed_queue):
    response = coordinator.get(reverse(HUB))
    rows = response.context["page"].object_list
    assert rows[0].pk == mixed_queue["uncovered"].pk
    alert = HubAlert.objects.get(task=mixed_queue["uncovered"])
    page = response.content.decode()
    assert alert.message in page and "alert-badge" in page
    # Oldest first after the alerts.
    assert rows[1].pk == mixed_queue["joint"][0].pk


def test_each_row_shows_item_taxpayer_source_team_age_and_due(coordinator, mixed_queue):
    task = mixed_queue["risk"][0]
    page = coordinator.get(reverse(HUB), {"source": "risk"}).content.decode()
    row = re.search(rf'<tr id="hub-row-{task.pk}".*?</tr>', page, re.S).group(0)
    assert f"T{task.pk}" in row and task.item.name in row and task.taxpayer.name in row
    assert "风险" in row and "线上办理团队" in row
    assert re.search(r"1\s日，6\s小时", row)  # its age (Django's timesince, in Chinese)
    assert timezone.localtime(task.due_at).strftime("%m-%d %H:%M") in row


def test_unknown_filter_values_are_ignored(coordinator, mixed_queue):
    response = coordinator.get(reverse(HUB), {"age": "old", "state": "weird", "due": "never"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 9
    # A team code is taken as given: none of the tasks is in a team that does not exist.
    assert coordinator.get(reverse(HUB), {"team": "NOPE"}).context["page"].paginator.count == 0


def test_a_bad_filter_is_named_on_the_page_and_the_valid_ones_still_apply(coordinator, mixed_queue):
    coordinator.cookies["django_language"] = "en"
    everything = coordinator.get(reverse(HUB)).context["page"].paginator.count
    grid_only = coordinator.get(reverse(HUB), {"source": "grid"}).context["page"].paginator.count
    assert 0 < grid_only < everything
    response = coordinator.get(reverse(HUB), {"source": "grid", "age": "old", "tier": "moon", "alerts": "maybe"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == grid_only  # the valid filter applies
    page = response.content.decode()
    problems = re.search(r'<ul class="messages filter-problems".*?</ul>', page, re.S).group(0)
    for label, value in (("Age", "old"), ("Tier", "moon"), ("Alerts only", "maybe")):
        assert f"The filter “{label}” cannot be “{value}”; it was left out." in problems
    assert "Source line" not in problems


def test_the_page_and_the_api_read_the_filters_alike(coordinator, api, org, mixed_queue):
    for params in ({"source": "grid"}, {"alerts": "true"}, {"due": "overdue", "state": "queued"}, {"tier": "middle"}):
        page = coordinator.get(reverse(HUB), params).context["page"].paginator.count
        assert page == api(org.coordinator).get("/api/v1/hub/queue/", params).json()["count"], params
    # What the API refuses, the page names (and leaves out).
    for params in ({"source": "fax"}, {"tier": "moon"}, {"state": "closed"}):
        assert api(org.coordinator).get("/api/v1/hub/queue/", params).status_code == 400
        assert coordinator.get(reverse(HUB), params).context["filter_problems"], params


def test_a_task_in_any_team_is_counted_and_listed(coordinator, org, open_case):
    from taxservice.org.models import Team, Tier
    from tests.factories import TeamFactory

    counter = TeamFactory(code="H01-WIN", name="第一办税厅窗口", kind=Team.Kind.HALL, tier=Tier.FRONT, branch=org.hall)
    task = _transferred(open_case, org)
    services.task_transition(
        task_id=task.pk, actor=org.coordinator, name="reroute", team_code=counter.code, reason="窗口补正"
    )
    response = coordinator.get(reverse(HUB))
    link = next(link for name, link in _facet_links(response) if name == "team" and link["value"] == counter.code)
    assert link["count"] == 1 and _count_behind(coordinator, link["href"]) == 1
    page = coordinator.get(reverse(HUB) + link["href"]).content.decode()
    assert "团队: 第一办税厅窗口" in page


def test_the_hub_queue_takes_a_fixed_number_of_queries(coordinator, org, open_case, django_assert_max_num_queries):
    for _ in range(15):
        case = open_case("assisted", "joint")
        for task in case.tasks.all():
            services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    assert Task.objects.filter(state="queued").count() == 30
    with django_assert_max_num_queries(20) as first:
        response = coordinator.get(reverse(HUB))
    assert len(response.context["page"].object_list) == 25
    with django_assert_max_num_queries(20) as second:
        response = coordinator.get(reverse(HUB), {"page": 2})
    assert len(response.context["page"].object_list) == 5
    assert len(first.captured_queries) == len(second.captured_queries)


# --- bulk actions ----------------------------------------------------------------------------------


def test_bulk_assign_assigns_every_ticked_task(coordinator, org, mixed_queue):
    tasks = mixed_queue["online"]
    url = reverse(HUB) + "?team=ONLINE"
    response = coordinator.post(
        url, {"action": "assign", "tasks": [t.pk for t in tasks], "assignee": org.member2.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == url
    assert "中台赵" in response.content.decode() and "已分派" in response.content.decode()
    assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("state", "assignee")) == {
        ("assigned", org.member2.pk)
    }
    assert all(t.transitions.last().actor == org.coordinator for t in Task.objects.filter(pk__in=[t.pk for t in tasks]))


def test_bulk_assign_is_all_or_nothing_and_lists_every_refusal(coordinator, org, mixed_queue):
    online, joint = mixed_queue["online"][0], mixed_queue["joint"]
    ids = [online.pk, *(t.pk for t in joint)]
    response = coordinator.post(reverse(HUB), {"action": "assign", "tasks": ids, "assignee": org.member.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert "没有做任何更改：所选任务中有 2 项被拒绝。" in page
    for task in joint:
        assert f"T{task.pk}: 中台王 不是基础团队的成员。" in page
        assert f'<tr id="hub-row-{task.pk}" class="row-refused">' in page
    # The ticks survive, so the coordinator can untick the refused rows and try again.
    assert f'value="{online.pk}" class="tick" aria-label="T{online.pk}" checked' in page
    assert set(Task.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"queued"}
    assert not Task.objects.filter(pk__in=ids, transitions__transition="assign").exists()


def test_bulk_assign_needs_ticked_tasks_and_an_assignee(coordinator, org, mixed_queue):
    response = coordinator.post(reverse(HUB), {"action": "assign", "assignee": org.member.pk})
    assert response.status_code == 400 and "请至少勾选一项任务" in response.content.decode()
    task = mixed_queue["online"][0]
    response = coordinator.post(reverse(HUB), {"action": "assign", "tasks": [task.pk]})
    assert response.status_code == 400 and "请选择把任务分派给谁" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "queued"


def test_bulk_return_requires_a_reason(coordinator, org, mixed_queue):
    tasks = mixed_queue["assigned"]
    url = reverse(HUB) + "?state=assigned"
    response = coordinator.post(url, {"action": "return", "tasks": [t.pk for t in tasks], "reason": "  "})
    assert response.status_code == 400
    assert "此步骤必须填写理由" in response.content.decode()
    assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("state", flat=True)) == {"assigned"}
    response = coordinator.post(
        url, {"action": "return", "tasks": [t.pk for t in tasks], "reason": "承办人请假"}, follow=True
    )
    assert "已退回" in response.content.decode()
    returned = Task.objects.filter(pk__in=[t.pk for t in tasks])
    assert set(returned.values_list("state", "assignee")) == {("queued", None)}
    assert {t.transitions.last().reason for t in returned} == {"承办人请假"}


def test_bulk_reroute_sends_the_tasks_to_another_team_with_the_reason(coordinator, org, mixed_queue):
    task = mixed_queue["uncovered"]
    response = coordinator.post(
        reverse(HUB), {"action": "reroute", "tasks": [task.pk], "team": "ONLINE", "reason": "人工初筛"}, follow=True
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.state, task.team, task.transitions.last().reason) == ("queued", org.online, "人工初筛")
    assert "已将 1 项任务改派至线上办理团队" in response.content.decode()


def test_dispatch_now_runs_the_pipeline_per_task_and_reports_each(coordinator, org, mixed_queue):
    online = mixed_queue["online"][:2]
    uncovered = mixed_queue["uncovered"]
    ids = [t.pk for t in online] + [uncovered.pk]
    response = coordinator.post(reverse(HUB), {"action": "dispatch", "tasks": ids}, follow=True)
    page = response.content.decode()
    assert "立即派单：3 项任务中有 2 项已分派。" in page
    assert f"T{uncovered.pk}：未派单。任务统筹岗的任务需人工分派。" in page
    for task in online:
        task.refresh_from_db()
        assert task.state == "assigned"
        decision = DispatchDecision.objects.get(task=task)
        assert decision.actor == org.coordinator
        assert f"T{task.pk}：已分派给{task.assignee.name}。" in page


# --- the robot -------------------------------------------------------------------------------------


def test_the_robot_panel_pauses_and_resumes_with_a_reason(coordinator, org):
    page = coordinator.get(reverse("middle_office:robot")).content.decode()
    assert "机器人正在运行" in page
    response = coordinator.post(reverse("middle_office:robot"), {"paused": "true", "reason": ""})
    assert response.status_code == 400 and not RobotSettings.load().paused
    response = coordinator.post(reverse("middle_office:robot"), {"paused": "true", "reason": "系统维护"}, follow=True)
    page = response.content.decode()
    assert "机器人已暂停" in page and "系统维护" in page and "统筹李" in page
    settings_row = RobotSettings.load()
    assert (settings_row.paused, settings_row.changed_by, settings_row.reason) == (True, org.coordinator, "系统维护")
    coordinator.post(reverse("middle_office:robot"), {"paused": "false", "reason": "维护完成"})
    assert not RobotSettings.load().paused


def test_the_robot_settings_row_comes_with_the_migrations(db):
    assert RobotSettings.objects.filter(pk=RobotSettings.SINGLETON, paused=False).exists()


def test_reading_the_robot_page_writes_no_settings_row(coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    RobotSettings.objects.all().delete()  # as after a flush: reading must fall back, not write
    with CaptureQueriesContext(connection) as queries:
        response = coordinator.get(reverse("middle_office:robot"))
    assert response.status_code == 200 and response.context["settings_row"].paused is False
    assert not RobotSettings.objects.exists()
    writes = [q["sql"] for q in queries if "robotsettings" in q["sql"].lower() and not q["sql"].startswith("SELECT")]
    assert writes == []


def test_pausing_makes_the_settings_row_when_it_is_missing(coordinator, org):
    RobotSettings.objects.all().delete()
    coordinator.post(reverse("middle_office:robot"), {"paused": "true", "reason": "系统维护"})
    assert RobotSettings.objects.get().paused


def test_the_robot_panel_lists_the_last_twenty_runs_with_reasons(coordinator):
    for n in range(22):
        RobotRun.objects.create(trigger="sweep", duration_ms=n, dispatched=n)
    RobotRun.objects.create(
        trigger="capacity",
        duration_ms=37,
        dispatched=4,
        skipped=3,
        skipped_reasons={"no_eligible:capacity,on_duty": 2, "no_members": 1},
    )
    RobotRun.objects.create(trigger="transfer", paused=True, skipped=1, skipped_reasons={"paused": 1})
    response = coordinator.get(reverse("middle_office:robot"))
    assert len(response.context["runs"]) == 20
    page = response.content.decode()
    assert "无可派人员（被以下条件筛除：承载量、在岗）" in page and "团队没有成员" in page
    assert "机器人已暂停" in page and "承载量释放" in page and "37" in page


# --- staff and duty ----------------------------------------------------------------------------------


def test_the_staff_list_shows_load_and_marks_the_off_duty(coordinator, org, open_case):
    task = _transferred(open_case, org)
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    org.member2.on_duty = False
    org.member2.save()
    response = coordinator.get(reverse("middle_office:staff"))
    page = response.content.decode()
    member_row = re.search(rf'<tr id="staff-row-{org.member.pk}".*?</tr>', page, re.S).group(0)
    assert "1 / 20" in member_row and "线上办理团队" in member_row and "在岗" in member_row
    off_row = re.search(rf'<tr id="staff-row-{org.member2.pk}"[^>]*>', page).group(0)
    assert "row-off-duty" in off_row
    only_off = coordinator.get(reverse("middle_office:staff"), {"duty": "off"}).context["page"].object_list
    assert [person.pk for person in only_off] == [org.member2.pk]
    only_on = (
        coordinator.get(reverse("middle_office:staff"), {"duty": "on", "team": "ONLINE"}).context["page"].object_list
    )
    assert [person.pk for person in only_on] == [org.member.pk]


def test_the_duty_toggle_swaps_the_row_with_htmx(coordinator, org):
    url = reverse("middle_office:staff_duty", args=[org.member.pk])
    response = coordinator.post(url, {"on_duty": "false"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="staff-row-{org.member.pk}" class="row-off-duty">')
    assert "中台王已离岗" in row
    assert response["HX-Trigger"] == "dutyChanged"  # the on/off counts refresh themselves
    org.member.refresh_from_db()
    assert not org.member.on_duty
    response = coordinator.post(url, {"on_duty": "true", "next": reverse("middle_office:staff") + "?duty=off"})
    assert response.status_code == 302 and response["Location"] == reverse("middle_office:staff") + "?duty=off"
    org.member.refresh_from_db()
    assert org.member.on_duty


def test_coming_on_duty_makes_the_robot_sweep_the_backlog(coordinator, org, django_capture_on_commit_callbacks):
    from taxservice.catalogue.models import HandlingList
    from taxservice.org.models import Team, Tier
    from tests.factories import ItemFactory

    hot = ItemFactory(
        code="H001",
        name="高频事项",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.MIDDLE,
        team_kind=Team.Kind.ONLINE_PROCESSING,
        high_frequency=True,
    )
    for staff in (org.member, org.member2):
        staff.on_duty = False
        staff.save()
    task = _pushed(org, hot, "business")
    assert task.state == "queued" and task.auto_dispatch
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(reverse("middle_office:staff_duty", args=[org.member.pk]), {"on_duty": "true"})
    task.refresh_from_db()
    assert (task.state, task.assignee) == ("assigned", org.member)


# --- the decision record on the task page -----------------------------------------------------------


def test_the_task_page_shows_the_decision_record_with_the_filters_reasons_and_the_replay(client, org, open_case):
    org.member2.on_duty = False
    org.member2.save()
    org.chief.teams.add(org.online)
    task = _transferred(open_case, org)
    decision = routing_services.task_dispatch(task_id=task.pk, actor=org.coordinator, seed=42)
    client.force_login(org.member.user)  # anyone who can see the task sees the record
    response = client.get(reverse("task_detail", args=[task.pk]))
    page = response.content.decode()
    assert 'id="dispatch-decisions"' in page and f'id="decision-{decision.pk}"' in page
    record = response.context["decisions"][0]
    assert record.replay_matches and record.chosen == "中台王"
    assert "复算结果一致：中台王" in page
    assert "业务提级办" in page and f"v{decision.rule_version}" in page and "42" in page
    assert "不在岗" in page and "中台赵" in page
    assert "分局长吴" in page and "团队中没有办理角色" in page
    assert "统筹李" in page and "最少负载优先" in page


def test_the_robots_decision_says_robot_and_no_candidate_is_shown(client, org, open_case):
    for staff in (org.member, org.member2):
        staff.on_duty = False
        staff.save()
    task = _transferred(open_case, org)
    routing_services.task_dispatch(task_id=task.pk, actor=None)
    client.force_login(org.coordinator.user)
    page = client.get(reverse("task_detail", args=[task.pk])).content.decode()
    assert "机器人" in page and "无剩余候选人" in page and "没有符合条件的人员。" in page
    assert "复算结果一致" in page


def test_a_task_without_decisions_has_no_decision_panel(client, org, open_case):
    task = _transferred(open_case, org)
    client.force_login(org.coordinator.user)
    assert 'id="dispatch-decisions"' not in client.get(reverse("task_detail", args=[task.pk])).content.decode()


# --- bulk upload ---------------------------------------------------------------------------------------


def _csv(rows):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = "source,taxpayer,item,notes\n" + "\n".join(",".join(row) for row in rows) + "\n"
    return SimpleUploadedFile("tasks.csv", text.encode("utf-8"), content_type="text/csv")


def test_an_upload_with_a_bad_row_shows_the_row_report_and_imports_nothing(
    coordinator, org, items, taxpayer, django_capture_on_commit_callbacks
):
    upload = _csv([["risk", taxpayer.credit_code, "A001", ""], ["fax", taxpayer.credit_code, "NOPE", "x"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("middle_office:uploads"), {"file": upload})
    batch = UploadBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "middle_office:upload_detail", args=[batch.pk]
    )
    page = coordinator.get(response["Location"]).content.decode()
    assert batch.state == "failed" and not Task.objects.exists()
    assert "没有导入任何内容" in page and 'aria-valuenow="100"' in page
    errors = re.search(r'<table class="grid grid-compact upload-errors".*?</table>', page, re.S).group(0)
    assert '<td class="num">3</td><td>来源条线</td><td>未知来源条线“fax”。</td>' in errors
    assert '<td class="num">3</td><td>事项</td><td>未知事项“NOPE”。</td>' in errors
    # A finished batch is not polled any more.
    assert 'hx-trigger="every 1s"' not in page


def test_a_good_upload_shows_done_with_the_counts(
    coordinator, org, items, taxpayer, django_capture_on_commit_callbacks
):
    upload = _csv(
        [
            ["risk", taxpayer.credit_code, "A001", "风险提示"],
            ["business", taxpayer.credit_code, "A001", ""],
            ["grid", taxpayer.credit_code, "J001", ""],
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("middle_office:uploads"), {"file": upload})
    batch = UploadBatch.objects.get()
    assert (batch.state, batch.created_count, batch.merged_count) == ("done", 2, 1)
    page = coordinator.get(response["Location"]).content.decode()
    assert "已导入：新建 2 项任务，1 项并入" in page and 'aria-valuenow="100"' in page
    listing = coordinator.get(reverse("middle_office:uploads")).content.decode()
    assert "tasks.csv" in listing and "统筹李" in listing


def test_a_running_batch_polls_every_second_and_the_partial_follows_the_progress(coordinator, org):
    batch = UploadBatch.objects.create(
        uploaded_by=org.coordinator,
        filename="big.csv",
        total_rows=200,
        processed_rows=50,
        state=UploadBatch.State.VALIDATING,
    )
    page = coordinator.get(reverse("middle_office:upload_detail", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="25"' in page
    assert reverse("middle_office:upload_progress", args=[batch.pk]) in page
    UploadBatch.objects.filter(pk=batch.pk).update(processed_rows=150)
    partial = coordinator.get(reverse("middle_office:upload_progress", args=[batch.pk])).content.decode()
    assert partial.lstrip().startswith('<div id="upload-progress"') and 'aria-valuenow="75"' in partial
    assert "<html" not in partial


def test_an_upload_whose_import_breaks_says_so_and_stops_polling(
    coordinator, org, items, taxpayer, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(routing_services, "task_intake", broken)
    coordinator.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            reverse("middle_office:uploads"), {"file": _csv([["risk", taxpayer.credit_code, "A001", ""]])}
        )
    batch = UploadBatch.objects.get()
    assert response.status_code == 302 and batch.state == "failed" and not Task.objects.exists()
    for url in (response["Location"], reverse("middle_office:upload_progress", args=[batch.pk])):
        page = coordinator.get(url).content.decode()
        assert 'hx-trigger="every 1s"' not in page and 'aria-valuenow="100"' in page
        failure = re.search(r'<span class="upload-failure">(.*?)</span>', page, re.S).group(1)
        assert "unexpected error; nothing was imported" in failure
        assert "the database went away" not in page and "upload-errors" not in page


def test_a_file_over_5_mb_is_refused_on_the_form_by_its_size_before_it_is_read(coordinator, org, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from middle_office import views
    from taxservice.workflow.routing.uploads import MAX_BYTES

    def never(**kwargs):
        raise AssertionError("upload_start was handed a file over the limit")

    monkeypatch.setattr(views, "upload_start", never)
    coordinator.cookies["django_language"] = "en"
    big = SimpleUploadedFile("big.csv", b"x" * (MAX_BYTES + 1))
    response = coordinator.post(reverse("middle_office:uploads"), {"file": big})
    assert response.status_code == 400 and "The file is larger than 5 MB." in response.content.decode()
    assert not UploadBatch.objects.exists()


def test_an_unreadable_file_is_refused_on_the_form(coordinator, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = coordinator.post(reverse("middle_office:uploads"), {"file": SimpleUploadedFile("t.txt", b"x")})
    assert response.status_code == 400 and "请上传 .csv 或 .xlsx 文件" in response.content.decode()
    assert not UploadBatch.objects.exists()


def test_the_csv_template_has_the_columns(coordinator):
    response = coordinator.get(reverse("middle_office:upload_template"))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "source,taxpayer,item,notes"


# --- routing rules --------------------------------------------------------------------------------------


def test_the_rules_screen_lists_the_rules_in_order(coordinator):
    response = coordinator.get(reverse("middle_office:rules"))
    names = [rule.name for rule in response.context["page"].object_list]
    assert names == ["事项前移·属地优先", "网格兜底办", "一问联办·后台", "业务提级办"]
    page = response.content.decode()
    assert "一问联办" in page and "随机派单" in page and "v1" in page


def test_a_rule_edit_needs_a_reason_and_bumps_the_version(coordinator, org):
    rule = RoutingRule.objects.get(name="业务提级办")
    url = reverse("middle_office:rule_edit", args=[rule.pk])
    form = coordinator.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data.update({"chooser": "round_robin", "priority": 45, "reason": ""})
    response = coordinator.post(url, data)
    assert response.status_code == 400 and "请说明修改规则的原因" in response.content.decode()
    rule.refresh_from_db()
    assert (rule.version, rule.chooser) == (1, "least_loaded")
    data["reason"] = "线上团队人手均衡后改为轮流派单"
    response = coordinator.post(url, data, follow=True)
    rule.refresh_from_db()
    assert (rule.version, rule.chooser, rule.priority, rule.updated_by) == (2, "round_robin", 45, org.coordinator)
    change = RoutingRuleChange.objects.get(rule=rule, version=2)
    assert change.reason == data["reason"]
    page = response.content.decode()
    history = re.search(r'<table class="grid" id="rule-history">.*?</table>', page, re.S).group(0)
    assert "线上团队人手均衡后改为轮流派单" in history and "统筹李" in history
    assert "<del>最少负载优先</del> → <ins>轮流派单</ins>" in history and "<del>40</del> → <ins>45</ins>" in history


def test_a_rule_edit_that_changes_nothing_is_refused(coordinator):
    rule = RoutingRule.objects.get(name="业务提级办")
    url = reverse("middle_office:rule_edit", args=[rule.pk])
    form = coordinator.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["reason"] = "无变化"
    response = coordinator.post(url, data)
    assert response.status_code == 400 and "没有任何更改" in response.content.decode()
    rule.refresh_from_db()
    assert rule.version == 1


def test_a_rule_with_an_unknown_item_shows_the_services_error(coordinator):
    rule = RoutingRule.objects.get(name="业务提级办")
    url = reverse("middle_office:rule_edit", args=[rule.pk])
    data = {
        name: value
        for name, value in coordinator.get(url).context["form"].initial.items()
        if value not in (None, False)
    }
    data.update({"match_item": "ZZZ9", "reason": "试一下"})
    response = coordinator.post(url, data)
    assert response.status_code == 400 and "未知事项 ZZZ9" in response.content.decode()


def test_a_new_rule_is_created_at_version_one(coordinator, org, items):
    data = {
        "name": "风险条线·后台",
        "priority": 5,
        "active": "on",
        "match_source": "risk",
        "target": "competent_branch",
        "team_kind": "risk",
        "chooser": "random",
        "filters": ["membership", "on_duty", "capacity"],
        "reason": "风险任务直送分局风险团队",
    }
    response = coordinator.post(
        reverse("middle_office:rule_new"), urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )
    rule = RoutingRule.objects.get(name="风险条线·后台")
    assert response.status_code == 302 and response["Location"] == reverse("middle_office:rule_edit", args=[rule.pk])
    assert (rule.version, rule.match_source, rule.filters) == (1, "risk", ["membership", "on_duty", "capacity"])
    page = coordinator.get(response["Location"]).content.decode()
    assert "风险任务直送分局风险团队" in page


def test_every_screen_renders_in_english_too(coordinator, mixed_queue):
    coordinator.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = coordinator.get(reverse(HUB)).content.decode()
    assert "Coordination hub" in page and "Dispatch now" in page and "Under 1 day" in page
    assert str(TaskState.QUEUED.label) in page


def test_removal_reasons_are_stored_as_codes_and_read_in_the_readers_language():
    from django.utils import translation

    from taxservice.web.decisions import removal_reason

    with translation.override("zh-hans"):
        assert removal_reason({"code": "on_leave", "until": "2026-12-01"}) == "休假至 2026-12-01"
        assert removal_reason({"code": "at_capacity", "load": 20, "capacity": 20}) == "已满负荷（20/20）"
        assert removal_reason({"code": "conflict", "reason": "亲属关系"}) == "需回避：亲属关系"
        assert removal_reason({"code": "handled_last"}) == "上次办理过该纳税人的同一事项"
        assert removal_reason({"code": "at_capacity"}) == "已满负荷（%(load)s/%(capacity)s）"  # values missing
        assert removal_reason({"code": "something_new"}) == "something_new"
    with translation.override("en"):
        assert removal_reason({"code": "on_leave", "until": "2026-12-01"}) == "on leave until 2026-12-01"
