"""Writes of the hub: intake and screening, dispatch, routing-rule changes, the robot.

Locking protocol (keeps concurrent dispatchers deadlock-free and capacity exact):
1. task rows first (a claim with SKIP LOCKED, or one row with FOR UPDATE);
2. then staff rows, always in one ascending pass, and nothing after them but writes.
All row locks are FOR NO KEY UPDATE, which foreign-key checks (KEY SHARE) do not wait on.

Two ways to use the staff locks:
- *Pessimistic* (a coordinator's "dispatch now", and the robot's fallback): lock every
  member of the task's team, then read loads and decide. Nobody else can add work to
  those people until the transaction commits.
- *Optimistic* (the robot's batches): read loads without locks, decide, write, then lock
  only the people chosen and count their open tasks again. Counted after the lock, the
  figure includes every other dispatcher's committed work, so a batch that would put
  anyone over capacity is rolled back to a savepoint and redone pessimistically. Staff
  rows are then held only for that recount and the commit, so parallel robot workers
  do not queue behind each other's whole batch.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.catalogue.models import HandlingList, Item
from taxservice.changes.models import ChangeLog
from taxservice.changes.services import record_change, snapshot
from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow import sql
from taxservice.workflow.cases import assignments, clocks
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import OPEN_STATES, Task, TaskIntake, TaskState, TaskTransition
from taxservice.workflow.cases.services import task_transition
from taxservice.workflow.routing import dispatch, engine, selectors
from taxservice.workflow.routing.models import (
    FILTER_NAMES,
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

INTAKE_SOURCES = [s for s in Task.Source.values if s != Task.Source.FRONT_DESK]
# Open for duplicate merging: anything not yet closed or cancelled.
MERGEABLE_STATES = [*OPEN_STATES, TaskState.DONE]


# --- intake and screening (初筛) ---------------------------------------------------------


def task_intake(
    *,
    actor: Staff | None,
    source: str,
    taxpayer: str,
    item: str,
    notes: str = "",
    batch: str = "",
    merge: bool = True,
) -> tuple[Task, bool]:
    """Take a task in from another business line. Returns (task, merged).

    A taxpayer+item that already has an open task is merged into it (the intake is
    linked, nothing new is created), unless `merge` is False (a rectification is one task
    per cause, however many the taxpayer has open). A new task is screened at once:
    classified by the routing rules and queued for its team, or flagged for the
    coordination post.
    """
    access.require(access.can_push_tasks, actor)
    errors = _intake_errors(source=source, taxpayer=taxpayer, item=item)
    if errors:
        raise InvalidInput(_("The task was not taken in."), fields=errors)
    now = timezone.now()
    with transaction.atomic():
        # One intake per taxpayer at a time, so two pushes of the same pair cannot both create.
        taxpayer_obj = (
            Taxpayer.objects.select_for_update(of=("self",), no_key=True)
            .select_related("competent_branch__parent")
            .get(credit_code=taxpayer)
        )
        item_obj = Item.objects.get(code=item)
        existing = (
            Task.objects.filter(taxpayer=taxpayer_obj, item=item_obj, state__in=MERGEABLE_STATES)
            .order_by("created_at", "id")
            .first()
            if merge
            else None
        )
        if existing is not None:
            TaskIntake.objects.create(
                task=existing, source=source, notes=notes, merged=True, received_at=now, received_by=actor, batch=batch
            )
            return existing, True
        task = Task.objects.create(
            case=None,
            taxpayer=taxpayer_obj,
            item=item_obj,
            note=notes,
            source=source,
            tier=Tier.MIDDLE,
            due_at=clocks.promise_due(item_obj, now, WorkCalendar.load()),
            created_at=now,
        )
        intake = TaskIntake.objects.create(
            task=task, source=source, notes=notes, received_at=now, received_by=actor, batch=batch
        )
        TaskTransition.objects.create(
            task=task,
            transition="receive",
            from_state="",
            to_state=TaskState.RECEIVED,
            actor=actor,
            at=now,
            details={"source": source, "intake": intake.pk},
        )
        # Screening is the system's step, whoever pushed the task.
        task = task_transition(task_id=task.pk, actor=None, name="transfer", details={"intake": intake.pk})
    return task, False


def _intake_errors(*, source: str, taxpayer: str, item: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if source not in INTAKE_SOURCES:
        errors["source"] = [
            _("Unknown source line %(source)s; use one of %(choices)s.")
            % {"source": source, "choices": ", ".join(INTAKE_SOURCES)}
        ]
    if not Taxpayer.objects.filter(credit_code=taxpayer).exists():
        errors["taxpayer"] = [_("No taxpayer has the credit code %(code)s.") % {"code": taxpayer}]
    if not Item.objects.filter(code=item, active=True).exists():
        errors["item"] = [_("Unknown item %(code)s.") % {"code": item}]
    return errors


# --- dispatch ------------------------------------------------------------------------------


def task_dispatch(
    *, task_id: int, actor: Staff | None = None, seed: int | None = None, skip_locked: bool = False
) -> DispatchDecision | None:
    """Run the dispatch pipeline for one queued task and assign the chosen person.

    Returns the recorded decision, or None when the task was locked by another
    dispatcher (`skip_locked`) or is no longer queued. With no candidate left the task
    stays queued and the coordination post gets an alert; a moved-forward task whose
    territorial staff are all unavailable is sent to the coordination post instead.
    """
    access.require(access.can_dispatch, actor)
    with transaction.atomic():
        task = (
            sql.tasks_for_update(skip_locked=skip_locked)
            .select_related("item", "taxpayer__competent_branch__parent", "team", "case")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            if skip_locked:
                return None
            raise NotFound(_("No task %(id)s.") % {"id": task_id})
        if actor is not None and not access.can_see_task(actor, task):
            raise ActionForbidden(_("This task belongs to another team or branch."))
        if task.state != TaskState.QUEUED:
            if actor is None:
                return None
            raise TransitionNotAllowed(_("Only queued tasks can be dispatched."))
        if task.team is None or task.team.kind == Team.Kind.COORDINATION_POST:
            if actor is None:
                return None
            raise TransitionNotAllowed(_("Tasks at the coordination post are assigned by hand."))
        lock_staff_of_teams([task.team.pk])
        decided = _dispatch_batch_locked(tasks=[dispatch.TaskRef.of(task)], actor=actor, seeds={task.pk: seed})
        return DispatchDecision.objects.get(pk=decided[0].pk)


def lock_staff_of_teams(team_ids: list[int]) -> None:
    """Lock the staff rows of these teams in one ascending pass (see the module docstring)."""
    sql.lock_staff(Staff.teams.through.objects.filter(team_id__in=team_ids).values_list("staff_id", flat=True))


@dataclass(slots=True)
class Decided:
    """What the batch decided for one task (the stored row is a DispatchDecision)."""

    pk: int
    task: dispatch.TaskRef
    outcome: str
    chosen_id: int | None
    candidates: list[int]
    removed: list[dict]
    rule: RoutingRule | None


DECISION_FIELDS = (
    "task_id",
    "at",
    "actor_id",
    "rule_id",
    "rule_version",
    "team_id",
    "candidates",
    "removed",
    "eligible",
    "loads",
    "chooser",
    "chooser_state",
    "seed",
    "chosen_id",
    "outcome",
)


def _dispatch_batch_locked(
    *,
    tasks: list[dispatch.TaskRef],
    actor: Staff | None,
    seeds: dict[int, int | None] | None = None,
    verify_capacity: bool = False,
) -> list[Decided]:
    """Dispatch queued tasks, holding their row locks.

    The pipeline reads everything for the batch at once (`dispatch.load_context`), then
    decides task by task in memory, so the people chosen earlier in the batch count
    against capacity for the later ones. Writes are set-based: the decisions in one
    `insert_rows`, the assignments through `tasks_assign_bulk`.

    Either the caller already holds the staff locks of the tasks' teams (pessimistic), or
    `verify_capacity` raises CapacityOvershoot if, counted under their row locks after the
    writes, anyone chosen is over capacity (optimistic; see the module docstring).
    """
    now = timezone.now()
    seeds = seeds or {}
    rules = engine.rules_in_order()
    ctx = dispatch.load_context(
        tasks=tasks, now=now, need_round_robin=any(rule.chooser == Chooser.ROUND_ROBIN for rule in rules)
    )
    items = Item.objects.in_bulk({task.item_id for task in tasks})
    districts = _districts_of({task.competent_branch_id for task in tasks})
    rule_of = _rule_memo(rules)
    candidates_json: dict[int, sql.RawJSON] = {}  # team id -> its candidate ids as JSON, encoded once
    rows: list[tuple] = []
    decided: list[Decided] = []
    actor_id = actor.pk if actor else None
    for task in tasks:
        item = items[task.item_id]
        district_id = districts.get(task.competent_branch_id)
        # Everything RoutingRule.matches reads, so a remembered answer is never stale.
        key = (
            item.pk,
            item.handling_list,
            item.tier,
            item.moved_forward,
            task.source,
            task.classification,
            task.grade,
            district_id,
        )
        if key not in rule_of:
            rule_of[key] = engine.first_match(
                rules=rules, item=item, source=task.source, taxpayer=task, district_id=district_id
            )
        rule = rule_of[key]
        chooser = rule.chooser if rule else Chooser.RANDOM
        filters = tuple(rule.filters) if rule else tuple(FILTER_NAMES)
        seed = seeds.get(task.id)
        seed = seed if seed is not None else secrets.randbits(48)
        result = dispatch.evaluate(task=task, filters=filters, chooser=chooser, seed=seed, ctx=ctx)
        if result.chosen_id is not None:
            outcome = DispatchDecision.Outcome.ASSIGNED
            ctx.record_choice(task=task, staff_id=result.chosen_id)
        elif rule is not None and rule.target == Target.TERRITORIAL:
            outcome = DispatchDecision.Outcome.TO_COORDINATION_POST
        else:
            outcome = DispatchDecision.Outcome.NO_CANDIDATE
        candidates = candidates_json.get(task.team_id)
        if candidates is None:
            candidates = candidates_json[task.team_id] = sql.RawJSON(json.dumps(result.candidates))
        rows.append(
            (
                task.id,
                now,
                actor_id,
                rule.pk if rule else None,
                rule.version if rule else None,
                task.team_id,
                candidates,
                result.removed,
                candidates if result.eligible is result.candidates else result.eligible,
                result.loads,
                chooser,
                result.chooser_state,
                seed,
                result.chosen_id,
                outcome,
            )
        )
        decided.append(Decided(0, task, outcome, result.chosen_id, result.candidates, result.removed, rule))
    for decision, pk in zip(decided, sql.insert_rows(DispatchDecision, DECISION_FIELDS, rows), strict=True):
        decision.pk = pk
    assigned = [d for d in decided if d.outcome == DispatchDecision.Outcome.ASSIGNED]
    names = {m.pk: m.name for members in ctx.members.values() for m in members}
    loads_after = assignments.tasks_assign_bulk(
        actor=actor,
        rows=[
            assignments.BulkAssignment(
                task_id=d.task.id,
                staff_id=chosen,
                staff_name=names[chosen],
                item_name=items[d.task.item_id].name,
                details={"decision": d.pk},
            )
            for d in assigned
            if (chosen := d.chosen_id) is not None  # always set when assigned
        ],
    )
    if verify_capacity and any(load > capacity for load, capacity in loads_after.values()):
        raise CapacityOvershoot
    for decision in decided:
        if decision.outcome != DispatchDecision.Outcome.ASSIGNED:
            _not_assigned(decision=decision, actor=actor, now=now)
    return decided


class CapacityOvershoot(Exception):
    """An optimistic batch would put someone over capacity: roll it back and redo it locked."""


_rule_memos: dict[tuple, dict[tuple, RoutingRule | None]] = {}


def _rule_memo(rules: list[RoutingRule]) -> dict[tuple, RoutingRule | None]:
    """Which rule each combination of matched values gets, remembered for as long as the
    active rules stay exactly the same (keyed by each rule's id and full snapshot)."""
    signature = tuple((rule.pk, repr(rule.snapshot())) for rule in rules)
    memo = _rule_memos.get(signature)
    if memo is None:
        _rule_memos.clear()
        memo = _rule_memos[signature] = {}
    return memo


def _districts_of(branch_ids: set[int]) -> dict[int, int | None]:
    branches = Branch.objects.select_related("parent").in_bulk(branch_ids)
    return {pk: engine.district_of(branch) for pk, branch in branches.items()}


def _not_assigned(*, decision: Decided, actor: Staff | None, now) -> None:
    """Nobody could take the task: the coordination post hears of it (rare, so one task at a time)."""
    task = Task.objects.select_related("item", "team", "taxpayer__competent_branch").get(pk=decision.task.id)
    if decision.outcome == DispatchDecision.Outcome.TO_COORDINATION_POST:
        hub = engine.coordination_post()
        if hub is not None:
            task = case_services.task_transition(
                task_id=task.pk,
                actor=actor,
                name="reroute",
                team_code=hub.code,
                reason=_("No dispatched staff of the competent branch is eligible (属地优先 fallback)."),
                details={"decision": decision.pk},
            )
        HubAlert.raise_once(
            task=task,
            kind=HubAlert.Kind.TERRITORIAL_FALLBACK,
            now=now,
            message=_("No dispatched staff of %(branch)s can take %(item)s; assign by hand.")
            % {"branch": task.taxpayer.competent_branch.name, "item": task.item.name},
        )
    else:
        # Redistributed when capacity frees up, whatever its rule: the robot's sweep takes it.
        Task.objects.filter(pk=task.pk, auto_dispatch=False).update(auto_dispatch=True)
        HubAlert.raise_once(
            task=task,
            kind=HubAlert.Kind.NO_CANDIDATE,
            now=now,
            message=_("No eligible staff in %(team)s for %(item)s.") % {"team": task.team.name, "item": task.item.name},
        )


# --- the auto-dispatch robot --------------------------------------------------------------


def robot_backlog():
    """Queued tasks screening marked for the robot, oldest first."""
    return Task.objects.filter(state=TaskState.QUEUED, auto_dispatch=True).order_by("created_at", "id")


def robot_run(
    *, trigger: str, task_ids: list[int] | None = None, batch_size: int = 200, limit: int | None = None
) -> RobotRun:
    """Dispatch `task_ids`, or the whole backlog oldest-first, in batches claimed with SKIP LOCKED.

    Each batch is decided optimistically and redone under the team's staff locks only if
    it would overshoot someone's capacity (module docstring). Idempotent: a task already
    assigned, or claimed by another worker, is skipped.
    """
    started = timezone.now()
    clock = time.perf_counter()
    if RobotSettings.load().paused:
        return RobotRun.objects.create(
            trigger=trigger,
            started_at=started,
            paused=True,
            skipped=len(task_ids or []),
            skipped_reasons={"paused": len(task_ids or [])} if task_ids else {},
        )
    dispatched = 0
    skipped: Counter[str] = Counter()
    cursor: tuple | None = None
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            qs = robot_backlog()
            if task_ids is not None:
                qs = qs.filter(pk__in=task_ids)
            if cursor is not None:
                qs = qs.filter(created_at__gte=cursor[0]).exclude(created_at=cursor[0], id__lte=cursor[1])
            size = batch_size if limit is None else min(batch_size, limit - done)
            claimed = dispatch.task_refs(sql.claim_tasks(qs, size))
            if not claimed:
                break
            # Foreign keys checked as the rows are written, not at COMMIT: the commit then
            # happens while the chosen people's rows are locked, so everything deferred to
            # it would hold other workers up.
            sql.check_constraints_now()
            try:
                with transaction.atomic():
                    decided = _dispatch_batch_locked(tasks=claimed, actor=None, verify_capacity=True)
            except CapacityOvershoot:
                lock_staff_of_teams(sorted({task.team_id for task in claimed}))
                decided = _dispatch_batch_locked(tasks=claimed, actor=None)
            for decision in decided:
                if decision.outcome == DispatchDecision.Outcome.ASSIGNED:
                    dispatched += 1
                else:
                    skipped[_skip_reason(decision)] += 1
            # The batch's last task, where the next claim starts (its time read once per batch:
            # loading a timestamp for every claimed row cost more than this query).
            last = claimed[-1].id
            cursor = (Task.objects.filter(pk=last).values_list("created_at", flat=True).get(), last)
            done += len(claimed)
    run_kwargs = {
        "trigger": trigger,
        "started_at": started,
        "duration_ms": int((time.perf_counter() - clock) * 1000),
        "dispatched": dispatched,
        "skipped": sum(skipped.values()),
        "skipped_reasons": dict(skipped),
    }
    if task_ids is not None and done == 0:
        # Nothing asked for was still queued (already dispatched, or another worker's
        # claim): an idempotent no-op, not a run worth a log row.
        return RobotRun(**run_kwargs)
    return RobotRun.objects.create(**run_kwargs)


def _skip_reason(decision: Decided) -> str:
    """A code with values: "no_members", or "no_eligible:" and the filters that removed people."""
    if not decision.candidates:
        return "no_members"
    return "no_eligible:" + ",".join(sorted({row["filter"] for row in decision.removed}))


def robot_set_paused(*, actor: Staff, paused: bool, reason: str = "") -> RobotSettings:
    access.require(access.can_pause_robot, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the robot is paused or resumed."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    with transaction.atomic():
        settings_row = RobotSettings.load_for_update()
        record_change(
            actor=actor,
            obj=settings_row,
            action=ChangeLog.Action.PAUSED if paused else ChangeLog.Action.RESUMED,
            before={"paused": settings_row.paused},
            after={"paused": paused},
            reason=reason,
        )
        settings_row.paused = paused
        settings_row.changed_by = actor
        settings_row.changed_at = timezone.now()
        settings_row.reason = reason
        settings_row.save()
    if not paused:
        transaction.on_commit(lambda: schedule_sweep("capacity"))
    return settings_row


def schedule_sweep(trigger: str) -> None:
    scheduling.send(scheduling.ROBOT_SWEEP, trigger=trigger)


def schedule_dispatch(task_id: int) -> None:
    scheduling.send(scheduling.ROBOT_DISPATCH, task_id)


# --- staff availability ---------------------------------------------------------------------


def staff_set_duty(*, actor: Staff, staff_id: int, on_duty: bool) -> Staff:
    """Clock a staff member on or off. Coming on duty frees capacity: the robot sweeps."""
    if actor.pk != staff_id:
        access.require(access.can_set_others_duty, actor)
    with transaction.atomic():
        staff = sql.staff_for_update().filter(pk=staff_id).first()
        if staff is None:
            raise NotFound(_("No staff member %(id)s.") % {"id": staff_id})
        record_change(
            actor=actor,
            obj=staff,
            action=ChangeLog.Action.DUTY,
            before={"on_duty": staff.on_duty},
            after={"on_duty": on_duty},
        )
        staff.on_duty = on_duty
        staff.save(update_fields=["on_duty"])
        if on_duty:
            transaction.on_commit(lambda: schedule_sweep(RobotRun.Trigger.CAPACITY))
    return staff


# --- routing rules --------------------------------------------------------------------------

EDITABLE_RULE_FIELDS = {
    "name",
    "description",
    "priority",
    "active",
    "match_item",
    "match_list",
    "match_tier",
    "match_moved_forward",
    "match_source",
    "match_classification",
    "match_grade",
    "match_district",
    "tier",
    "team_kind",
    "target",
    "team",
    "chooser",
    "filters",
    "auto_dispatch",
}


def rule_save(*, actor: Staff, changes: dict, reason: str, rule_id: int | None = None) -> RoutingRule:
    """Create (rule_id None) or change a routing rule; every save is versioned and audited."""
    access.require(access.can_edit_rules, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the rule changes."), code="reason_required", fields={"reason": [_("Required.")]})
    unknown = set(changes) - EDITABLE_RULE_FIELDS
    if unknown:
        raise InvalidInput(
            _("Unknown rule fields: %(f)s.") % {"f": ", ".join(sorted(unknown))},
            fields={f: [_("Unknown field.")] for f in unknown},
        )
    values = _clean_rule_values(changes)
    with transaction.atomic():
        if rule_id is None:
            if "target" not in values or "name" not in values:
                raise InvalidInput(
                    _("A new rule needs a name and a target."),
                    fields={f: [_("Required.")] for f in ("name", "target") if f not in values},
                )
            rule = RoutingRule(version=0)
            before = None
        else:
            found = RoutingRule.objects.select_for_update(no_key=True).filter(pk=rule_id).first()
            if found is None:
                raise NotFound(_("No routing rule %(id)s.") % {"id": rule_id})
            rule = found
            before = rule.snapshot()
        for name, value in values.items():
            setattr(rule, name, value)
        _check_rule_team(rule)
        if before is not None and rule.snapshot() == before:
            # Nothing would change: no version, no change row (the page and the API alike).
            raise InvalidInput(
                _("Nothing to change: the rule already has these values."),
                code="nothing_to_change",
                fields={"changes": [_("Change at least one value.")]},
            )
        rule.version += 1
        rule.updated_by = actor
        rule.updated_at = timezone.now()
        rule.save()
        RoutingRuleChange.objects.create(
            rule=rule,
            version=rule.version,
            changed_by=actor,
            changed_at=rule.updated_at,
            reason=reason,
            before=before,
            after=rule.snapshot(),
        )
    return rule


def _clean_rule_values(changes: dict) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict = {}
    choices: dict[str, list[tuple[str, Any]]] = {
        "match_list": HandlingList.choices,
        "match_tier": Tier.choices,
        "match_source": Task.Source.choices,
        "match_classification": Taxpayer.Classification.choices,
        "match_grade": Taxpayer.Grade.choices,
        "tier": Tier.choices,
        "team_kind": Team.Kind.choices,
        "target": Target.choices,
        "chooser": Chooser.choices,
    }
    for name, value in changes.items():
        if name in choices:
            allowed = {c[0] for c in choices[name]}
            blank_ok = name not in {"target", "chooser"}
            if value in (None, "") and blank_ok:
                values[name] = ""
            elif value in allowed:
                values[name] = value
            else:
                errors[name] = [_("Not one of: %(c)s.") % {"c": ", ".join(sorted(allowed))}]
        elif name == "match_item":
            item = Item.objects.filter(code=value).first() if value else None
            if value and item is None:
                errors[name] = [_("Unknown item %(code)s.") % {"code": value}]
            values[name] = item
        elif name == "match_district":
            district = Branch.objects.filter(code=value, kind=Branch.Kind.DISTRICT).first() if value else None
            if value and district is None:
                errors[name] = [_("No district bureau has the code %(code)s.") % {"code": value}]
            values[name] = district
        elif name == "team":
            team = Team.objects.filter(code=value).first() if value else None
            if value and team is None:
                errors[name] = [_("Unknown team %(code)s.") % {"code": value}]
            values[name] = team
        elif name == "filters":
            if not isinstance(value, list) or set(value) - set(FILTER_NAMES):
                errors[name] = [_("A list drawn from: %(f)s.") % {"f": ", ".join(FILTER_NAMES)}]
            else:
                values[name] = [f for f in FILTER_NAMES if f in value]
        elif name == "priority":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 32767:
                errors[name] = [_("A whole number from 0 to 32767.")]
            else:
                values[name] = value
        elif name in {"active", "match_moved_forward", "auto_dispatch"}:
            if value is None and name == "match_moved_forward":
                values[name] = None
            elif not isinstance(value, bool):
                errors[name] = [_("true or false.")]
            else:
                values[name] = value
        else:  # name, description
            text = str(value or "").strip()
            if name == "name" and not text:
                errors[name] = [_("Required.")]
            values[name] = text
    if errors:
        raise InvalidInput(_("The rule was not saved."), fields=errors)
    return values


def _check_rule_team(rule: RoutingRule) -> None:
    """A rule with the target `team` names its team; a rule with another target names none."""
    if rule.target == Target.TEAM and rule.team_id is None:
        raise InvalidInput(
            _("A rule that sends tasks to a named team must name the team."),
            code="team_required",
            fields={"team": [_("Required.")]},
        )
    if rule.target != Target.TEAM and rule.team_id is not None:
        raise InvalidInput(
            _("Only a rule with the target “the team the rule names” names a team."),
            code="team_not_expected",
            fields={"team": [_("Leave empty, or choose the target “the team the rule names”.")]},
        )


# --- conflicts of interest (回避) and leave --------------------------------------------------
# Declared by a branch chief for the staff of their branch scope, or an administrator, with a
# reason; never deleted, withdrawn; each declaration and withdrawal writes a change-log row.


def _absence_staff_locked(*, actor: Staff, staff_id: int) -> Staff:
    """`selectors.absence_staff`, then the staff row locked: declarations for one person queue."""
    staff = selectors.absence_staff(actor=actor, staff_id=staff_id)
    return sql.staff_for_update().get(pk=staff.pk)


def _required_reason(reason: str, *, max_length: int) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(_("Give a reason."), code="reason_required", fields={"reason": [_("Required.")]})
    if len(text) > max_length:
        raise InvalidInput(
            _("At most %(n)s characters.") % {"n": max_length},
            code="reason_too_long",
            fields={"reason": [_("At most %(n)s characters.") % {"n": max_length}]},
        )
    return text


def conflict_declare(*, actor: Staff, staff_id: int, taxpayer: str, reason: str) -> StaffConflict:
    """Declare that the staff member must not handle the taxpayer (named by credit code)."""
    reason = _required_reason(reason, max_length=200)
    code = (taxpayer or "").strip().upper()
    with transaction.atomic():
        staff = _absence_staff_locked(actor=actor, staff_id=staff_id)
        found = Taxpayer.objects.filter(credit_code=code).first() if code else None
        if found is None:
            raise InvalidInput(
                _("Name the taxpayer by its unified social credit code."),
                code="unknown_taxpayer",
                fields={"taxpayer": [_("No taxpayer has this credit code.") if code else _("Required.")]},
            )
        if StaffConflict.objects.filter(staff=staff, taxpayer=found, withdrawn_at__isnull=True).exists():
            raise InvalidInput(
                _("%(staff)s already has a declared conflict of interest with %(taxpayer)s.")
                % {"staff": staff.name, "taxpayer": found.name},
                code="conflict_exists",
                fields={"taxpayer": [_("Already declared.")]},
            )
        conflict = StaffConflict.objects.create(
            staff=staff, taxpayer=found, reason=reason, declared_by=actor, declared_at=timezone.now()
        )
        record_change(
            actor=actor,
            obj=conflict,
            action=ChangeLog.Action.CREATED,
            before={},
            after=snapshot(conflict, ["staff", "taxpayer", "reason"]),
            reason=reason,
        )
    return conflict


def conflict_withdraw(*, actor: Staff, staff_id: int, conflict_id: int, reason: str = "") -> StaffConflict:
    """End a declared conflict of interest: the row stays, marked withdrawn by whom and when."""
    with transaction.atomic():
        staff = _absence_staff_locked(actor=actor, staff_id=staff_id)
        conflict = StaffConflict.objects.select_for_update(no_key=True).filter(pk=conflict_id, staff=staff).first()
        if conflict is None:
            raise NotFound(_("No conflict of interest %(id)s.") % {"id": conflict_id})
        if conflict.withdrawn_at is not None:
            raise TransitionNotAllowed(_("This declaration was already withdrawn."), code="already_withdrawn")
        before = snapshot(conflict, ["withdrawn_at", "withdrawn_by"])
        conflict.withdrawn_at = timezone.now()
        conflict.withdrawn_by = actor
        conflict.withdrawal_reason = (reason or "").strip()[:200]
        conflict.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        record_change(
            actor=actor,
            obj=conflict,
            action=ChangeLog.Action.CHANGED,
            before=before,
            after=snapshot(conflict, ["withdrawn_at", "withdrawn_by"]),
            reason=conflict.withdrawal_reason,
        )
    return conflict


def leave_overlaps(*, staff_id: int, starts_on: dt.date, ends_on: dt.date, exclude_id: int | None = None) -> bool:
    """Whether the staff member already has leave (not withdrawn) on any day of the period."""
    qs = StaffLeave.objects.filter(
        staff_id=staff_id, withdrawn_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def _leave_date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[name] = [_("A date, YYYY-MM-DD.") if value else _("Required.")]
        return None


def leave_declare(*, actor: Staff, staff_id: int, starts_on: Any, ends_on: Any, reason: str) -> StaffLeave:
    """Declare the staff member's leave, both days included; an overlapping leave is refused."""
    errors: dict[str, list[str]] = {}
    start = _leave_date(starts_on, "starts_on", errors)
    end = _leave_date(ends_on, "ends_on", errors)
    if start and end and end < start:
        errors["ends_on"] = [_("The leave ends on or after the day it starts.")]
    if errors:
        raise InvalidInput(_("The leave was not declared."), code="invalid_period", fields=errors)
    assert start is not None and end is not None
    reason = _required_reason(reason, max_length=100)
    with transaction.atomic():
        # The staff row's lock serialises declarations for one person: no two overlapping leaves.
        staff = _absence_staff_locked(actor=actor, staff_id=staff_id)
        if leave_overlaps(staff_id=staff.pk, starts_on=start, ends_on=end):
            raise InvalidInput(
                _("%(staff)s already has leave in this period.") % {"staff": staff.name},
                code="leave_overlaps",
                fields={"starts_on": [_("Overlaps another leave.")]},
            )
        leave = StaffLeave.objects.create(
            staff=staff, starts_on=start, ends_on=end, reason=reason, declared_by=actor, declared_at=timezone.now()
        )
        record_change(
            actor=actor,
            obj=leave,
            action=ChangeLog.Action.CREATED,
            before={},
            after=snapshot(leave, ["staff", "starts_on", "ends_on", "reason"]),
            reason=reason,
        )
    return leave


def leave_withdraw(*, actor: Staff, staff_id: int, leave_id: int, reason: str = "") -> StaffLeave:
    """End a declared leave: the row stays, marked withdrawn; dispatch counts the person again."""
    with transaction.atomic():
        staff = _absence_staff_locked(actor=actor, staff_id=staff_id)
        leave = StaffLeave.objects.select_for_update(no_key=True).filter(pk=leave_id, staff=staff).first()
        if leave is None:
            raise NotFound(_("No leave %(id)s.") % {"id": leave_id})
        if leave.withdrawn_at is not None:
            raise TransitionNotAllowed(_("This declaration was already withdrawn."), code="already_withdrawn")
        before = snapshot(leave, ["withdrawn_at", "withdrawn_by"])
        leave.withdrawn_at = timezone.now()
        leave.withdrawn_by = actor
        leave.withdrawal_reason = (reason or "").strip()[:200]
        leave.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        record_change(
            actor=actor,
            obj=leave,
            action=ChangeLog.Action.CHANGED,
            before=before,
            after=snapshot(leave, ["withdrawn_at", "withdrawn_by"]),
            reason=leave.withdrawal_reason,
        )
        if leave.starts_on <= timezone.localdate() <= leave.ends_on:
            # Back from leave today: capacity freed up.
            transaction.on_commit(lambda: schedule_sweep(RobotRun.Trigger.CAPACITY))
    return leave
