"""Random dispatch inside branch teams by default (随机派单), and redistribution whatever the rule."""

from __future__ import annotations

import pytest

from taxservice.org.models import Role, Team, Tier
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing import engine, services
from taxservice.workflow.routing.models import Chooser, DispatchDecision, HubAlert, RoutingRule, RoutingRuleChange
from tests.factories import StaffFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

JOINT_RULE = "一问联办·后台"


def transfer(org, open_case, callbacks) -> Task:
    task = open_case("joint").tasks.get()
    with callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    task.refresh_from_db()
    return task


def test_the_shipped_joint_rule_dispatches_at_random_and_says_so_in_its_history(db):
    rule = RoutingRule.objects.get(name=JOINT_RULE)
    assert (rule.auto_dispatch, rule.chooser) == (True, Chooser.RANDOM)
    change = RoutingRuleChange.objects.get(rule=rule, version=rule.version)
    assert (change.before["auto_dispatch"], change.after["auto_dispatch"], change.changed_by) == (False, True, None)


def test_a_joint_intake_transferred_from_the_counter_is_dispatched_by_the_robot_at_random(
    org, open_case, django_capture_on_commit_callbacks
):
    extra = StaffFactory(roles=[Role.TEAM_MEMBER], teams=[org.basic], home_branch=org.source)
    task = transfer(org, open_case, django_capture_on_commit_callbacks)
    assert task.state == "assigned"
    assert task.team == org.basic
    assert task.assignee in {org.back_member, extra}
    decision = DispatchDecision.objects.get(task=task)
    assert (decision.chooser, decision.actor, decision.outcome) == (Chooser.RANDOM, None, "assigned")
    assert decision.seed is not None
    assert sorted(decision.candidates) == sorted([org.back_member.pk, extra.pk])
    assert task.transitions.get(transition="assign").actor is None


def test_a_rule_that_says_manual_leaves_the_task_queued(org, open_case, django_capture_on_commit_callbacks):
    rule = RoutingRule.objects.get(name=JOINT_RULE)
    services.rule_save(actor=org.admin, rule_id=rule.pk, changes={"auto_dispatch": False}, reason="人工领取")
    task = transfer(org, open_case, django_capture_on_commit_callbacks)
    assert (task.state, task.assignee, task.auto_dispatch) == ("queued", None, False)
    assert not DispatchDecision.objects.filter(task=task).exists()


def test_escalation_to_a_branch_team_is_for_the_robot_unless_the_rule_says_manual(org, items, taxpayer):
    found = engine.escalation(item=items["joint"], source="front_desk", taxpayer=taxpayer)
    assert (found.team, found.auto_dispatch) == (org.basic, True)
    # The middle-office item's own rule targets the city; the back office's default applies.
    assisted = engine.escalation(item=items["assisted"], source="front_desk", taxpayer=taxpayer)
    assert (assisted.team, assisted.auto_dispatch) == (org.basic, True)
    RoutingRule.objects.filter(name=JOINT_RULE).update(auto_dispatch=False)
    manual = engine.escalation(item=items["joint"], source="front_desk", taxpayer=taxpayer)
    assert (manual.team, manual.auto_dispatch) == (org.basic, False)
    assert engine.escalation(item=items["joint"], source="", taxpayer=taxpayer).team == org.basic


def test_a_task_that_found_nobody_is_redistributed_when_capacity_frees_up_whatever_its_rule(
    org, open_case, django_capture_on_commit_callbacks
):
    rule = RoutingRule.objects.get(name=JOINT_RULE)
    services.rule_save(actor=org.admin, rule_id=rule.pk, changes={"auto_dispatch": False}, reason="人工领取")
    org.back_member.on_duty = False
    org.back_member.save()
    task = transfer(org, open_case, django_capture_on_commit_callbacks)
    assert (task.state, task.auto_dispatch) == ("queued", False)
    decision = services.task_dispatch(task_id=task.pk, actor=org.coordinator)
    assert decision.outcome == DispatchDecision.Outcome.NO_CANDIDATE
    task.refresh_from_db()
    assert task.auto_dispatch and task.has_open_alert
    assert services.robot_backlog().filter(pk=task.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_set_duty(actor=org.chief, staff_id=org.back_member.pk, on_duty=True)
    task.refresh_from_db()
    assert (task.state, task.assignee) == ("assigned", org.back_member)
    assert not HubAlert.objects.filter(task=task, resolved_at__isnull=True).exists()
    # Swept again, nothing is assigned twice: one active assignment, one assigned decision.
    services.robot_run(trigger="sweep")
    assert task.assignments.filter(ended_at__isnull=True).count() == 1
    assert DispatchDecision.objects.filter(task=task, outcome="assigned").count() == 1


def test_a_rule_can_name_a_team(org, items, taxpayer):
    custom = Team.objects.create(
        code="SRC1-CUSTOM", name="专属团队", kind=Team.Kind.CUSTOM, tier=Tier.BACK, branch=org.source
    )
    services.rule_save(
        actor=org.admin,
        changes={
            "name": "专属事项",
            "priority": 1,
            "match_item": items["joint"].code,
            "target": "team",
            "team": custom.code,
            "chooser": "random",
            "auto_dispatch": True,
        },
        reason="专属团队",
    )
    found = engine.classify(item=items["joint"], source="front_desk", taxpayer=taxpayer)
    assert (found.team, found.auto_dispatch) == (custom, True)


def test_a_team_rule_without_a_team_is_refused(org):
    with pytest.raises(Exception) as refused:
        services.rule_save(actor=org.admin, changes={"name": "x", "target": "team"}, reason="r")
    assert getattr(refused.value, "fields", {}).get("team")
    assert not RoutingRule.objects.filter(name="x").exists()
