"""Screening, routing rules, the dispatch pipeline and the robot."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone, translation

from taxservice.catalogue.models import HandlingList
from taxservice.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from taxservice.org.models import Role, Team, Tier
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Notification, Task, TaskAssignment, TaskIntake
from taxservice.workflow.routing import dispatch, engine, services
from taxservice.workflow.routing.models import (
    Chooser,
    DispatchDecision,
    HubAlert,
    RobotRun,
    RobotSettings,
    RoutingRule,
    RoutingRuleChange,
    StaffConflict,
    StaffLeave,
    Target,
)
from tests.factories import ItemFactory, StaffFactory, TaxpayerFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


@pytest.fixture
def hot_item(db):
    return ItemFactory(
        code="H001",
        name="高频事项",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.MIDDLE,
        team_kind=Team.Kind.ONLINE_PROCESSING,
        high_frequency=True,
    )


def push(org, taxpayer, item, source="business"):
    task, merged = services.task_intake(
        actor=org.integrator, source=source, taxpayer=taxpayer.credit_code, item=item.code
    )
    return task, merged


# --- rules -------------------------------------------------------------------------------------


class TestRules:
    def test_the_shipped_defaults_cover_the_three_kinds_of_routing(self, org, items, taxpayer):
        moved = engine.classify(item=items["moved_forward"], source="front_desk", taxpayer=taxpayer)
        assert (moved.rule.target, moved.team, moved.auto_dispatch) == (Target.TERRITORIAL, org.dispatched, True)
        joint = engine.classify(item=items["joint"], source="front_desk", taxpayer=taxpayer)
        assert (joint.rule.target, joint.team, joint.tier) == (Target.COMPETENT_BRANCH, org.basic, "back")
        assisted = engine.classify(item=items["assisted"], source="front_desk", taxpayer=taxpayer)
        assert (assisted.rule.name, assisted.team, assisted.auto_dispatch) == ("业务提级办", org.online, False)

    def test_what_no_rule_covers_is_flagged_for_the_hub(self, org, items, taxpayer):
        found = engine.classify(item=items["immediate"], source="risk", taxpayer=taxpayer)
        assert (found.rule, found.team, found.flag) == (None, org.hub, "no_rule")

    def test_lower_priority_wins_then_the_more_specific_rule(self, org, items, taxpayer):
        general = RoutingRule.objects.create(
            name="g", priority=5, match_list="assisted", target=Target.COORDINATION_POST
        )
        specific = RoutingRule.objects.create(
            name="s", priority=5, match_list="assisted", match_grade=taxpayer.grade, target=Target.CITY
        )
        assert engine.select_rule(item=items["assisted"], source="business", taxpayer=taxpayer) == specific
        specific.active = False
        specific.save()
        assert engine.select_rule(item=items["assisted"], source="business", taxpayer=taxpayer) == general

    @pytest.mark.parametrize(
        ("field", "matching", "other"),
        [
            ("match_source", "risk", "grid"),
            ("match_classification", "small_scale", "general_vat"),
            ("match_grade", "B", "A"),
            ("match_tier", "middle", "back"),
            ("match_moved_forward", False, True),
        ],
    )
    def test_each_match_field_narrows_a_rule(self, org, items, taxpayer, field, matching, other):
        rule = RoutingRule.objects.create(name="x", priority=1, target=Target.COORDINATION_POST, **{field: other})
        assert engine.select_rule(item=items["assisted"], source="risk", taxpayer=taxpayer) != rule
        setattr(rule, field, matching)
        rule.save()
        assert engine.select_rule(item=items["assisted"], source="risk", taxpayer=taxpayer) == rule

    def test_rules_match_on_item_and_district(self, org, items, taxpayer):
        rule = RoutingRule.objects.create(
            name="d", priority=1, match_item=items["assisted"], match_district=org.source.parent, target=Target.CITY
        )
        assert engine.select_rule(item=items["assisted"], source="risk", taxpayer=taxpayer) == rule
        assert engine.select_rule(item=items["approval"], source="risk", taxpayer=taxpayer) != rule

    def test_rule_changes_are_versioned_and_audited(self, org):
        rule = RoutingRule.objects.get(name="业务提级办")
        services.rule_save(
            actor=org.coordinator, rule_id=rule.pk, changes={"chooser": "round_robin"}, reason="试行轮派"
        )
        rule.refresh_from_db()
        assert (rule.version, rule.chooser, rule.updated_by) == (2, "round_robin", org.coordinator)
        change = rule.changes.get(version=2)
        assert (change.before["chooser"], change.after["chooser"], change.reason) == (
            "least_loaded",
            "round_robin",
            "试行轮派",
        )

    @pytest.mark.parametrize(
        "changes",
        [
            {"chooser": "coin"},
            {"filters": ["membership", "astrology"]},
            {"priority": -1},
            {"match_item": "NOPE"},
            {"colour": "red"},
        ],
    )
    def test_bad_rule_changes_write_nothing(self, org, changes):
        rule = RoutingRule.objects.get(name="业务提级办")
        with pytest.raises(InvalidInput):
            services.rule_save(actor=org.coordinator, rule_id=rule.pk, changes=changes, reason="x")
        rule.refresh_from_db()
        assert rule.version == 1
        assert rule.changes.count() == 1

    def test_only_coordinators_edit_rules_and_a_reason_is_required(self, org):
        rule = RoutingRule.objects.get(name="业务提级办")
        with pytest.raises(ActionForbidden):
            services.rule_save(actor=org.member, rule_id=rule.pk, changes={"priority": 1}, reason="x")
        with pytest.raises(InvalidInput):
            services.rule_save(actor=org.admin, rule_id=rule.pk, changes={"priority": 1}, reason=" ")
        created = services.rule_save(
            actor=org.admin, changes={"name": "风险任务", "match_source": "risk", "target": "city"}, reason="新增"
        )
        assert RoutingRuleChange.objects.get(rule=created).before is None


# --- intake ------------------------------------------------------------------------------------


class TestIntake:
    def test_a_pushed_task_is_screened_and_queued(self, org, items, taxpayer):
        task, merged = push(org, taxpayer, items["assisted"], source="risk")
        assert (merged, task.state, task.team, task.source, task.case) == (False, "queued", org.online, "risk", None)
        assert list(task.transitions.values_list("transition", "actor")) == [
            ("receive", org.integrator.pk),
            ("transfer", None),
        ]

    def test_a_duplicate_is_merged_into_the_open_task(self, org, items, taxpayer):
        first, _ = push(org, taxpayer, items["assisted"], source="risk")
        second, merged = push(org, taxpayer, items["assisted"], source="data_governance")
        assert merged and second == first
        assert Task.objects.filter(taxpayer=taxpayer, item=items["assisted"]).count() == 1
        assert list(TaskIntake.objects.filter(task=first).values_list("source", "merged").order_by("id")) == [
            ("risk", False),
            ("data_governance", True),
        ]

    def test_a_closed_task_does_not_absorb_a_new_one(self, org, items, taxpayer):
        first, _ = push(org, taxpayer, items["assisted"])
        case_services.task_transition(task_id=first.pk, actor=org.coordinator, name="cancel", reason="x")
        second, merged = push(org, taxpayer, items["assisted"])
        assert not merged and second != first

    def test_an_uncovered_task_goes_to_the_hub_with_an_alert(self, org, items, taxpayer):
        task, _ = push(org, taxpayer, items["immediate"], source="grid")
        assert task.team == org.hub
        assert HubAlert.objects.get(task=task).kind == "no_rule"

    @pytest.mark.parametrize(
        "change", [{"source": "front_desk"}, {"source": "fax"}, {"item": "NOPE"}, {"taxpayer": "X"}]
    )
    def test_bad_intake_writes_nothing(self, org, items, taxpayer, change):
        payload = {"source": "risk", "taxpayer": taxpayer.credit_code, "item": items["assisted"].code, **change}
        with pytest.raises(InvalidInput):
            services.task_intake(actor=org.integrator, **payload)
        assert not Task.objects.exists()

    def test_a_clerk_may_not_push_tasks(self, org, items, taxpayer):
        with pytest.raises(ActionForbidden):
            services.task_intake(actor=org.clerk, source="risk", taxpayer=taxpayer.credit_code, item="A001")


# --- dispatch pipeline ---------------------------------------------------------------------------


def queued(org, open_case, kind="assisted"):
    task = open_case(kind).tasks.get()
    return case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")


def removed_by(decision, filter_name):
    return {row["staff"] for row in decision.removed if row["filter"] == filter_name}


class TestPipeline:
    def test_it_assigns_a_team_member_and_records_the_decision(self, org, open_case):
        task = queued(org, open_case)
        decision = services.task_dispatch(task_id=task.pk, actor=org.coordinator, seed=7)
        task.refresh_from_db()
        assert decision.outcome == "assigned"
        assert decision.candidates == sorted([org.member.pk, org.member2.pk])
        assert task.assignee_id == decision.chosen_id and task.state == "assigned"
        assert task.transitions.last().details["decision"] == decision.pk
        assert TaskAssignment.objects.get(task=task, active=True).staff_id == decision.chosen_id

    def test_membership_removes_people_without_a_handling_role(self, org, open_case):
        org.chief.teams.add(org.online)
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "membership") == {org.chief.pk}

    def test_on_duty_removes_the_absent_on_leave_and_out_of_hours(self, org, open_case, settings):
        org.member.on_duty = False
        org.member.save()
        today = timezone.localdate()
        StaffLeave.objects.create(staff=org.member2, starts_on=today, ends_on=today + dt.timedelta(days=2))
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "on_duty") == {org.member.pk, org.member2.pk}
        assert decision.outcome == "no_candidate"
        reasons = {row["staff"]: row for row in decision.removed}
        assert reasons[org.member.pk]["code"] == dispatch.REASON_OFF_DUTY
        assert reasons[org.member2.pk]["code"] == dispatch.REASON_ON_LEAVE
        assert reasons[org.member2.pk]["until"] == (today + dt.timedelta(days=2)).isoformat()

    def test_working_hours(self, settings):
        settings.TAXSERVICE_WORKING_HOURS = "08:30-17:30"
        tz = timezone.get_current_timezone()
        assert dispatch.within_working_hours(dt.datetime(2026, 11, 27, 9, 0, tzinfo=tz))  # Friday morning
        assert not dispatch.within_working_hours(dt.datetime(2026, 11, 27, 18, 0, tzinfo=tz))
        assert not dispatch.within_working_hours(dt.datetime(2026, 11, 28, 9, 0, tzinfo=tz))  # Saturday

    def test_capacity_removes_the_full(self, org, open_case):
        org.member.capacity = 1
        org.member.save()
        first = queued(org, open_case)
        case_services.task_transition(task_id=first.pk, actor=org.member, name="assign")
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "capacity") == {org.member.pk}
        assert decision.chosen_id == org.member2.pk

    def test_conflict_of_interest_removes_the_declared(self, org, open_case, taxpayer):
        StaffConflict.objects.create(staff=org.member2, taxpayer=taxpayer, reason="亲属关系")
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "conflict") == {org.member2.pk}
        assert decision.chosen_id == org.member.pk

    def test_rotation_avoids_the_last_handler_of_the_same_taxpayers_item(self, org, open_case):
        first = queued(org, open_case)
        case_services.task_transition(task_id=first.pk, actor=org.member, name="assign")
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "rotation") == {org.member.pk}
        assert decision.chosen_id == org.member2.pk

    def test_rotation_keeps_the_last_handler_when_nobody_else_is_eligible(self, org, open_case):
        first = queued(org, open_case)
        case_services.task_transition(task_id=first.pk, actor=org.member, name="assign")
        org.member2.on_duty = False
        org.member2.save()
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert decision.chosen_id == org.member.pk

    def test_rotation_follows_the_latest_holder(self, org, open_case):
        older = queued(org, open_case)
        case_services.task_transition(task_id=older.pk, actor=org.member2, name="assign")
        newer = queued(org, open_case)
        case_services.task_transition(task_id=newer.pk, actor=org.member, name="assign")
        decision = services.task_dispatch(task_id=queued(org, open_case).pk, actor=org.coordinator)
        assert removed_by(decision, "rotation") == {org.member.pk}  # the latest holder, not the earlier one

    def test_rotation_ignores_the_dispatched_tasks_own_past(self, org, open_case):
        other = queued(org, open_case)
        case_services.task_transition(task_id=other.pk, actor=org.member, name="assign")
        task = queued(org, open_case)
        case_services.task_transition(task_id=task.pk, actor=org.member2, name="assign")
        case_services.task_transition(task_id=task.pk, actor=org.member2, name="return", reason="不属于本人")
        ref = dispatch.TaskRef.of(Task.objects.select_related("taxpayer").get(pk=task.pk))
        # member2 held this very task last; the same item twice in a row means another task.
        assert dispatch.last_handlers([ref]) == {(task.taxpayer_id, task.item_id): org.member.pk}

    def test_no_candidate_leaves_the_task_queued_with_an_alert(self, org, open_case):
        for staff in (org.member, org.member2):
            staff.on_duty = False
            staff.save()
        task = queued(org, open_case)
        decision = services.task_dispatch(task_id=task.pk, actor=org.coordinator)
        task.refresh_from_db()
        assert (decision.outcome, task.state, task.assignee) == ("no_candidate", "queued", None)
        assert HubAlert.objects.get(task=task, resolved_at__isnull=True).kind == "no_candidate"
        org.member.on_duty = True
        org.member.save()
        services.task_dispatch(task_id=task.pk, actor=org.coordinator)
        assert HubAlert.objects.get(task=task).resolved_at is not None

    def test_a_manual_assignment_resolves_the_hubs_alert(self, org, open_case):
        task = queued(org, open_case, kind="immediate")  # no rule: at the hub, flagged
        assert HubAlert.objects.filter(task=task, resolved_at__isnull=True).exists()
        case_services.task_transition(task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=org.member.pk)
        assert not HubAlert.objects.filter(task=task, resolved_at__isnull=True).exists()

    def test_only_queued_tasks_outside_the_hub_are_dispatched(self, org, open_case):
        task = queued(org, open_case, kind="immediate")  # no rule: at the hub
        with pytest.raises(TransitionNotAllowed):
            services.task_dispatch(task_id=task.pk, actor=org.coordinator)
        with pytest.raises(ActionForbidden):
            services.task_dispatch(task_id=task.pk, actor=org.member)


class TestTerritorialPriority:
    def test_a_moved_forward_item_goes_to_the_competent_branchs_dispatched_staff(self, org, open_case):
        task = queued(org, open_case, kind="moved_forward")
        decision = services.task_dispatch(task_id=task.pk)
        assert decision.chosen_id == org.dispatched_member.pk
        assert org.dispatched_member.home_branch_id == task.taxpayer.competent_branch_id

    def test_it_falls_back_to_the_coordination_post_when_none_is_eligible(self, org, open_case):
        org.dispatched_member.on_duty = False
        org.dispatched_member.save()
        task = queued(org, open_case, kind="moved_forward")
        decision = services.task_dispatch(task_id=task.pk)
        task.refresh_from_db()
        assert (decision.outcome, task.state, task.team, task.auto_dispatch) == (
            "to_coordination_post",
            "queued",
            org.hub,
            False,
        )
        assert HubAlert.objects.get(task=task).kind == "territorial_fallback"
        assert task.transitions.last().transition == "reroute"
        # The coordinator assigns by hand.
        task = case_services.task_transition(
            task_id=task.pk, actor=org.coordinator, name="assign", assignee_id=org.member.pk
        )
        assert task.assignee == org.member

    def test_a_transferred_moved_forward_item_reaches_its_staff_without_a_person(
        self, org, open_case, django_capture_on_commit_callbacks
    ):
        task = open_case("moved_forward").tasks.get()
        with django_capture_on_commit_callbacks(execute=True):
            case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        task.refresh_from_db()
        assert (task.state, task.assignee) == ("assigned", org.dispatched_member)
        assign = task.transitions.get(transition="assign")
        assert assign.actor is None
        assert RobotRun.objects.get(trigger="transfer").dispatched == 1


class TestChoosers:
    def test_random_is_fair(self):
        """10,000 seeded draws over five people: chi-square at the 1% level (df=4: 13.277)."""
        eligible = [3, 8, 11, 20, 41]
        counts = Counter(
            dispatch.choose(chooser=Chooser.RANDOM, eligible=eligible, loads={}, seed=seed, state={})
            for seed in range(10_000)
        )
        expected = 10_000 / len(eligible)
        chi_square = sum((counts[pk] - expected) ** 2 / expected for pk in eligible)
        assert chi_square < 13.277, counts

    def test_round_robin_takes_the_next_after_the_last(self):
        choose = dispatch.choose
        assert choose(chooser=Chooser.ROUND_ROBIN, eligible=[2, 5, 9], loads={}, seed=None, state={"last": 5}) == 9
        assert choose(chooser=Chooser.ROUND_ROBIN, eligible=[2, 5, 9], loads={}, seed=None, state={"last": 9}) == 2
        assert choose(chooser=Chooser.ROUND_ROBIN, eligible=[2, 5, 9], loads={}, seed=None, state={"last": None}) == 2

    def test_least_loaded_takes_the_lightest_then_the_lowest_id(self):
        loads = {"2": 4, "5": 1, "9": 1}
        assert dispatch.choose(chooser=Chooser.LEAST_LOADED, eligible=[2, 5, 9], loads=loads, seed=None, state={}) == 5

    @pytest.mark.parametrize("chooser", [Chooser.RANDOM, Chooser.ROUND_ROBIN, Chooser.LEAST_LOADED])
    def test_replaying_a_recorded_decision_gives_the_same_assignee(self, org, open_case, chooser):
        RoutingRule.objects.filter(name="业务提级办").update(chooser=chooser)
        extra = [
            StaffFactory(roles=[Role.TEAM_MEMBER], teams=[org.online], home_branch=org.service_branch) for _ in range(3)
        ]
        assert extra
        for _ in range(6):
            task = queued(org, open_case)
            decision = services.task_dispatch(task_id=task.pk, actor=org.coordinator)
            stored = DispatchDecision.objects.get(pk=decision.pk)
            assert dispatch.replay(stored) == stored.chosen_id


class TestRobot:
    def test_it_clears_the_backlog_when_someone_comes_on_duty(self, org, hot_item, django_capture_on_commit_callbacks):
        for staff in (org.member, org.member2):
            staff.on_duty = False
            staff.save()
        tasks = [push(org, TaxpayerFactory(competent_branch=org.source), hot_item)[0] for _ in range(3)]
        assert all(t.auto_dispatch and t.state == "queued" for t in tasks)
        run = services.robot_run(trigger="sweep")
        assert (run.dispatched, run.skipped) == (0, 3)
        assert run.skipped_reasons == {"no_eligible:on_duty": 3}
        with django_capture_on_commit_callbacks(execute=True):
            services.staff_set_duty(actor=org.member, staff_id=org.member.pk, on_duty=True)
        assert set(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("state", "assignee")) == {
            ("assigned", org.member.pk)
        }
        assert RobotRun.objects.filter(trigger="capacity").latest("started_at").dispatched == 3

    def test_it_dispatches_oldest_first_and_never_overfills(self, org, hot_item):
        org.member.capacity = 1
        org.member.save()
        org.member2.capacity = 1
        org.member2.save()
        tasks = [push(org, TaxpayerFactory(competent_branch=org.source), hot_item)[0] for _ in range(3)]
        run = services.robot_run(trigger="sweep", batch_size=2)
        assert (run.dispatched, run.skipped) == (2, 1)
        states = dict(Task.objects.filter(pk__in=[t.pk for t in tasks]).values_list("pk", "state"))
        assert [states[t.pk] for t in tasks] == ["assigned", "assigned", "queued"]

    def test_an_optimistic_batch_that_would_overfill_is_redone_under_the_staff_locks(
        self, org, hot_item, open_case, monkeypatch, django_capture_on_commit_callbacks
    ):
        # The member is full (capacity 1, one open task), and the only one on duty. A
        # robot batch reads the loads without locks; make that read stale, as if another
        # worker's batch had committed just after it: the batch chooses the member, the
        # count under the member's lock comes to 2 > 1, and the batch is redone locked.
        org.member.capacity = 1
        org.member.save()
        org.member2.on_duty = False
        org.member2.save()
        held = queued(org, open_case)
        case_services.task_transition(task_id=held.pk, actor=org.member, name="assign")
        task, _ = push(org, TaxpayerFactory(competent_branch=org.source), hot_item)
        real = dispatch.load_context
        calls = []

        def stale_first(**kwargs):
            ctx = real(**kwargs)
            calls.append(1)
            if len(calls) == 1:
                ctx.loads = dict.fromkeys(ctx.loads, 0)
            return ctx

        monkeypatch.setattr(dispatch, "load_context", stale_first)
        with django_capture_on_commit_callbacks(execute=True):  # whatever follows the commit runs too
            run = services.robot_run(trigger="sweep")
        assert len(calls) == 2  # the stale optimistic read, then the locked redo
        task.refresh_from_db()
        assert (run.dispatched, run.skipped, task.state, task.assignee_id) == (0, 1, "queued", None)
        assert not TaskAssignment.objects.filter(task=task).exists()
        assert not Notification.objects.filter(task=task).exists()  # rolled back with the optimistic batch
        (decision,) = DispatchDecision.objects.filter(task=task)  # the optimistic one was rolled back
        assert decision.outcome == "no_candidate"
        assert removed_by(decision, "capacity") == {org.member.pk}
        assert Task.objects.filter(assignee=org.member, state="assigned").count() == 1

    def test_each_assignee_is_notified_once_in_the_bureaus_language(
        self, org, hot_item, django_capture_on_commit_callbacks
    ):
        tasks = [push(org, TaxpayerFactory(competent_branch=org.source), hot_item)[0] for _ in range(3)]
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True) as callbacks:
            run = services.robot_run(trigger="sweep")
        assert run.dispatched == 3
        assert not callbacks  # written in the batch's own transaction, nothing left for after the commit
        for task in Task.objects.filter(pk__in=[t.pk for t in tasks]):
            (note,) = Notification.objects.filter(task=task)
            log = task.transitions.get(transition="assign")
            assert (note.recipient_id, note.transition_id) == (task.assignee_id, log.pk)
            assert note.message == f"任务 T{task.pk}（高频事项）已分派给您。"

    def test_a_queued_task_holding_an_active_assignment_is_still_assigned_cleanly(self, org, hot_item):
        # Services never leave a queued task with an active assignment; if a hand edit
        # did, the set-based assignment ends it rather than failing the whole batch.
        task, _ = push(org, TaxpayerFactory(competent_branch=org.source), hot_item)
        stray = TaskAssignment.objects.create(task=task, staff=org.member2)
        assert services.robot_run(trigger="sweep").dispatched == 1
        stray.refresh_from_db()
        assert not stray.active and stray.ended_at is not None
        assert TaskAssignment.objects.filter(task=task, active=True).count() == 1

    def test_a_single_step_notifies_in_the_bureaus_language_too(
        self, org, open_case, django_capture_on_commit_callbacks
    ):
        task = queued(org, open_case)
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            case_services.task_transition(task_id=task.pk, actor=org.member, name="assign")
        (note,) = Notification.objects.filter(task=task)
        assert note.message.startswith(f"任务 T{task.pk}")

    def test_messages_queued_for_the_old_batch_task_are_still_handled_once(self, org, open_case):
        from taxservice.workflow.cases.tasks import notify_transitions

        task = queued(org, open_case)
        case_services.task_transition(task_id=task.pk, actor=org.member, name="assign")  # its on_commit never runs here
        log = task.transitions.get(transition="assign")
        assert notify_transitions([log.pk]) == 1
        assert notify_transitions([log.pk]) == 0
        assert Notification.objects.filter(transition=log, recipient=org.member).count() == 1

    def test_a_paused_robot_dispatches_nothing_but_logs_the_run(self, org, hot_item):
        task, _ = push(org, TaxpayerFactory(competent_branch=org.source), hot_item)
        services.robot_set_paused(actor=org.coordinator, paused=True, reason="系统维护")
        run = services.robot_run(trigger="transfer", task_ids=[task.pk])
        task.refresh_from_db()
        assert (run.paused, run.dispatched, task.state) == (True, 0, "queued")
        assert RobotSettings.load().changed_by == org.coordinator
        with pytest.raises(ActionForbidden):
            services.robot_set_paused(actor=org.member, paused=False)
        with pytest.raises(InvalidInput):
            services.robot_set_paused(actor=org.coordinator, paused=False, reason=" ")
        assert RobotSettings.load().paused

    def test_it_is_idempotent(self, org, hot_item):
        task, _ = push(org, TaxpayerFactory(competent_branch=org.source), hot_item)
        assert services.robot_run(trigger="transfer", task_ids=[task.pk]).dispatched == 1
        again = services.robot_run(trigger="transfer", task_ids=[task.pk])
        assert (again.dispatched, again.pk) == (0, None)  # a no-op is not logged
        assert RobotRun.objects.count() == 1
        assert TaskAssignment.objects.filter(task=task).count() == 1

    def test_a_person_cannot_be_made_active_twice_on_one_task(self, org, open_case):
        from django.db import IntegrityError, transaction

        task = queued(org, open_case)
        case_services.task_transition(task_id=task.pk, actor=org.member, name="assign")
        with pytest.raises(IntegrityError), transaction.atomic():
            TaskAssignment.objects.create(task=task, staff=org.member2)


def test_the_set_based_assignment_stores_times_like_the_orm(org, hot_item):
    task, _ = push(org, TaxpayerFactory(competent_branch=org.source), hot_item)
    before = timezone.now()
    services.robot_run(trigger="sweep")
    task.refresh_from_db()
    assert task.state == "assigned"
    assert before <= task.updated_at <= timezone.now()
    assert Task.objects.filter(updated_at__gte=before, pk=task.pk).exists()
