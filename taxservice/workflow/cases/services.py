"""Writes on cases and tasks. The browser views and the API call these, and only these.

Every task state change runs `task_transition`, which in one transaction:
locks the task row, checks the actor's permission, makes the FSM transition, saves,
writes the audit row, and schedules follow-up work with `transaction.on_commit`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from taxservice import access, scheduling
from taxservice.catalogue.models import Item
from taxservice.errors import (
    ActionForbidden,
    ConcurrentChange,
    InvalidInput,
    NotFound,
    TransitionNotAllowed,
)
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Branch, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.webhooks import services as webhooks
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow import sql
from taxservice.workflow.cases import clocks, notifications, policy, transitions
from taxservice.workflow.cases.assignments import LOAD_STATES, holder, staff_adjust_open_tasks
from taxservice.workflow.cases.models import (
    OPEN_STATES,
    REMOTE_CHANNELS,
    TERMINAL_STATES,
    Case,
    CaseTransition,
    Channel,
    Scenario,
    Task,
    TaskAssignment,
    TaskComment,
    TaskState,
    TaskTransition,
)
from taxservice.workflow.routing.models import HubAlert


@dataclass(frozen=True)
class RequestedItem:
    item: str  # catalogue code
    note: str = ""


def case_open(
    *,
    actor: Staff,
    taxpayer: str,
    channel: str,
    items: list[RequestedItem],
    hall: str = "",
    service_point: str = "",
    scenario: str = "",
    reference: str = "",
    notes: str = "",
) -> Case:
    """Open a consultation (办问协同) with one task per requested item.

    `taxpayer`, `hall`, `service_point` and each item are codes. The intake must fit the
    channel: a window visit names its hall; a visit to a 就近办 service point names the
    point and its scenario; a remote contact (12366, 征纳互动, app, video, 12345) names no
    hall and may carry the channel's `reference` (the call or ticket number). The case is
    created whole or not at all; InvalidInput names every bad field, and its code is the
    first broken channel rule (`hall_required`, `hall_not_for_remote`, …) when there is one.
    """
    access.require(access.can_open_case, actor)
    hall, service_point, scenario = (hall or "").strip(), (service_point or "").strip(), (scenario or "").strip()
    reference = (reference or "").strip()
    errors: dict[str, list[str]] = {}
    codes: list[str] = []

    def refuse(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(message)
        codes.append(code)

    taxpayer_obj = Taxpayer.objects.filter(credit_code=taxpayer).select_related("competent_branch").first()
    if taxpayer_obj is None:
        errors["taxpayer"] = [_("No taxpayer has the credit code %(code)s.") % {"code": taxpayer}]
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel %(channel)s.") % {"channel": channel}]
    remote = channel in REMOTE_CHANNELS
    hall_obj: Branch | None = None
    point_obj: ServicePoint | None = None
    if channel == Channel.HALL_WINDOW:
        if not hall:
            refuse("hall", "hall_required", _("Name the hall the taxpayer came to."))
        else:
            hall_obj = Branch.objects.filter(code=hall, kind=Branch.Kind.HALL).first()
            if hall_obj is None:
                errors["hall"] = [_("No service hall has the code %(code)s.") % {"code": hall}]
    elif hall:
        code, message = (
            ("hall_not_for_remote", _("A remote contact names no hall."))
            if remote
            else ("hall_not_for_service_point", _("A service-point visit names its service point, not a hall."))
        )
        refuse("hall", code, message)
    if channel == Channel.SERVICE_POINT:
        if not service_point:
            refuse("service_point", "service_point_required", _("Name the service point the taxpayer came to."))
        else:
            point_obj = ServicePoint.objects.filter(code=service_point, active=True).first()
            if point_obj is None:
                errors["service_point"] = [
                    _("No active service point has the code %(code)s.") % {"code": service_point}
                ]
        if not scenario:
            refuse("scenario", "scenario_required", _("Say how the matter is handled at the point (the scenario)."))
        elif scenario not in Scenario.values:
            errors["scenario"] = [_("Unknown scenario %(scenario)s.") % {"scenario": scenario}]
    else:
        if service_point:
            refuse(
                "service_point",
                "service_point_not_for_channel",
                _("Only a visit to a service point names a service point."),
            )
        if scenario:
            refuse("scenario", "scenario_not_for_channel", _("Only a visit to a service point has a scenario."))
    if reference and not remote:
        refuse("reference", "reference_not_for_visit", _("Only a remote contact carries a call or ticket number."))
    if len(reference) > 64:
        errors.setdefault("reference", []).append(_("At most 64 characters."))
    if not items:
        errors["items"] = [_("Add at least one item.")]
    codes_asked = [requested.item for requested in items]
    catalogue = {item.code: item for item in Item.objects.filter(code__in=codes_asked, active=True)}
    unknown = [code for code in codes_asked if code not in catalogue]
    if unknown:
        errors.setdefault("items", []).append(_("Unknown items: %(codes)s.") % {"codes": ", ".join(unknown)})
    if len(set(codes_asked)) != len(codes_asked):
        errors.setdefault("items", []).append(_("Each item may be asked for once per case."))
    if errors or taxpayer_obj is None:
        raise InvalidInput(_("The case was not opened."), code=codes[0] if codes else None, fields=errors)

    now = timezone.now()
    cal = WorkCalendar.load()
    # What the log keeps of the intake: the place or the channel's reference, as given.
    intake: dict[str, str] = {"channel": channel}
    if hall_obj is not None:
        intake["hall"] = hall_obj.code
    if point_obj is not None:
        intake |= {"service_point": point_obj.code, "scenario": scenario}
    if reference:
        intake["reference"] = reference
    with transaction.atomic():
        case = Case.objects.create(
            taxpayer=taxpayer_obj,
            channel=channel,
            hall=hall_obj,
            service_point=point_obj,
            scenario=scenario if point_obj is not None else "",
            channel_reference=reference,
            accepted_by=actor,
            cross_hall=_is_cross_hall(channel, hall_obj, taxpayer_obj.competent_branch),
            notes=notes,
            created_at=now,
        )
        CaseTransition.objects.create(
            case=case,
            transition="open",
            from_state="",
            to_state=Case.State.OPEN,
            actor=actor,
            at=now,
            details={**intake, "items": codes_asked},
        )
        for requested in items:
            item = catalogue[requested.item]
            task = Task.objects.create(
                case=case,
                taxpayer=taxpayer_obj,
                item=item,
                note=requested.note,
                tier=Tier.FRONT,
                due_at=clocks.promise_due(item, now, cal),
                created_at=now,
            )
            TaskTransition.objects.create(
                task=task,
                transition=transitions.RECEIVE,
                from_state="",
                to_state=TaskState.RECEIVED,
                actor=actor,
                at=now,
                details=dict(intake),
            )
    return case


def _is_cross_hall(channel: str, hall: Branch | None, competent: Branch) -> bool:
    """异厅通办: the taxpayer came to a hall other than their competent branch's own hall.

    Only a window visit can be: a remote contact or a service-point visit is not a visit to
    a hall. Each tax-source branch names the hall that serves its territory (`home_hall`);
    a branch with no hall named has no "own" hall, so no visit to it counts as cross-hall.
    """
    if channel != Channel.HALL_WINDOW or hall is None:
        return False
    return competent.home_hall_id is not None and competent.home_hall_id != hall.pk


def task_transition(
    *,
    task_id: int,
    actor: Staff | None,
    name: str,
    reason: str = "",
    result: str = "",
    assignee_id: int | None = None,
    channel: str = "",
    team_code: str = "",
    days: int | None = None,
    expected_state: str | None = None,
    details: dict | None = None,
) -> Task:
    """Make transition `name` on a task, as `actor` (None means the system).

    The inputs are those of the transition's spec (`transitions.TRANSITIONS[name].inputs`):
    `assignee_id` (the actor by default), `team_code`, `reason`, `result`, `channel`;
    `details` adds to the audit row. Required inputs are checked before anything is read.

    Raises InvalidInput (bad arguments), ActionForbidden (not allowed for this actor),
    TransitionNotAllowed (not from the current state) or ConcurrentChange (someone else
    changed the task first). On any error nothing is written.
    """
    spec = transitions.get(name)
    if spec is None:
        raise InvalidInput(_("Unknown transition %(name)s.") % {"name": name}, code="unknown_transition")
    values = transitions.Values(
        reason=(reason or "").strip(),
        result=(result or "").strip(),
        channel=(channel or "").strip(),
        team=(team_code or "").strip(),
        days=days,
    )
    transitions.check_required(
        spec,
        {
            "reason": values.reason,
            "result": values.result,
            "assignee": assignee_id,
            "channel": values.channel,
            "team": values.team,
            "days": days,
        },
    )

    with transaction.atomic():
        task = (
            sql.tasks_for_update()
            .select_related("item", "taxpayer", "team", "case", "assignee")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            raise NotFound(_("No task %(id)s.") % {"id": task_id})
        if expected_state is not None and task.state != expected_state:
            raise ConcurrentChange(
                _("Someone else changed this task first: it is now “%(state)s”.") % {"state": task.get_state_display()}
            )

        on_behalf_of = None
        if actor is not None:
            denial = policy.transition_denial(actor, task, name, assignee_id=assignee_id)
            if denial is not None:
                raise ActionForbidden(denial.reason)
            if policy.own_denial(actor, task, name, assignee_id=assignee_id) is not None:
                on_behalf_of = policy.deputising_for(actor, task, name)
        assignee = (
            _resolve_assignee(task=task, actor=actor, assignee_id=assignee_id) if "assignee" in spec.inputs else None
        )

        method = transitions.method_of(task, name)
        if not can_proceed(method, check_conditions=False):
            raise TransitionNotAllowed(
                _("“%(name)s” is not allowed while the task is “%(state)s”.")
                % {"name": name, "state": task.get_state_display()}
            )
        if not can_proceed(method):
            condition = spec.condition
            if condition is None:
                raise TransitionNotAllowed(_("“%(name)s” is not allowed for this task.") % {"name": name})
            raise TransitionNotAllowed(str(condition.message), code=condition.code)

        if spec.waits_for_subtasks:
            _refuse_open_subtasks(task)
        step = spec.step(task, dataclasses.replace(values, assignee=assignee))
        log_details = {**step.details, **(details or {})}
        from_state = task.state
        from_holder = holder(task)
        method(**step.kwargs)
        try:
            task.save()
        except ConcurrentTransition:
            raise ConcurrentChange(_("Someone else changed this task first. Reload and try again.")) from None
        to_holder = holder(task)
        if from_holder != to_holder:
            deltas: Counter[int] = Counter()
            if from_holder is not None:
                deltas[from_holder] -= 1
            if to_holder is not None:
                deltas[to_holder] += 1
            staff_adjust_open_tasks(deltas)
        now = timezone.now()
        log = TaskTransition.objects.create(
            task=task,
            transition=name,
            from_state=from_state,
            to_state=task.state,
            actor=actor,
            on_behalf_of=on_behalf_of,
            at=now,
            reason=values.reason,
            details=log_details,
        )
        webhooks.emit_task_state_changed(task, log)  # in this transaction, via the outbox
        names_holder = "assignee" in spec.inputs
        _record_assignment(task=task, names_holder=names_holder, now=now)
        clocks.refresh(task)
        if spec.settles_alerts or task.state in TERMINAL_STATES:
            HubAlert.resolve_for(task_ids=[task.pk], now=now)
        if step.alert:
            _raise_hub_alert(task=task, kind=step.alert, now=now)
        if task.state in TERMINAL_STATES and task.case_id is not None:
            _close_case_if_finished(case_id=task.case_id, actor=actor, last_task_id=task.pk, now=now)
        _schedule_follow_ups(task=task, from_state=from_state, transition_id=log.pk)
    return task


def _refuse_open_subtasks(task: Task) -> None:
    """A task cannot finish while one of its sub-tasks is open: Conflict naming them."""
    open_ids = list(task.subtasks.filter(state__in=OPEN_STATES).order_by("id").values_list("pk", flat=True))
    if open_ids:
        names = [f"T{pk}" for pk in open_ids]
        raise TransitionNotAllowed(
            _("Sub-tasks still open: %(tasks)s. They must finish first.") % {"tasks": ", ".join(names)},
            code="subtasks_open",
            fields={"subtasks": names},
        )


def _record_assignment(*, task: Task, names_holder: bool, now: dt.datetime) -> None:
    """Keep TaskAssignment in step: one active row while someone holds an open task."""
    if names_holder or task.assignee_id is None or task.state in TERMINAL_STATES:
        TaskAssignment.objects.filter(task=task, active=True).update(active=False, ended_at=now)
    if names_holder and task.assignee_id is not None:
        TaskAssignment.objects.create(task=task, staff_id=task.assignee_id, assigned_at=now)


def _raise_hub_alert(*, task: Task, kind: str, now) -> None:
    messages = {
        "no_rule": _("No routing rule covers %(item)s from %(source)s."),
        "no_team": _("The rule for %(item)s names a team that does not exist."),
        "territorial_fallback": _("No dispatched staff of the competent branch can take %(item)s."),
        "no_candidate": _("No eligible staff for %(item)s."),
    }
    message = messages.get(kind, kind) % {"item": task.item.name, "source": task.get_source_display()}
    # A rule naming a missing team is, for the hub, a task no rule covers.
    stored_kind = HubAlert.Kind.NO_RULE if kind == "no_team" else kind
    HubAlert.raise_once(task=task, kind=stored_kind, message=message, now=now)


def _resolve_assignee(*, task: Task, actor: Staff | None, assignee_id: int | None) -> Staff:
    if assignee_id is None:
        if actor is None:
            raise InvalidInput(_("The system must name an assignee."), fields={"assignee": [_("Required.")]})
        assignee = actor
    else:
        found = Staff.objects.select_related("home_branch").filter(pk=assignee_id).first()
        if found is None:
            raise InvalidInput(_("No staff member %(id)s.") % {"id": assignee_id}, fields={"assignee": [_("Unknown.")]})
        assignee = found
    refusal = policy.holding_refusal(assignee, task)
    if refusal == "not_a_handler":
        raise InvalidInput(
            _("%(name)s does not work tasks (no handling role).") % {"name": assignee.name},
            code="not_a_handler",
            fields={"assignee": [_("Not someone who works tasks.")]},
        )
    if refusal == "not_a_member" and task.team is not None:
        raise InvalidInput(
            _("%(name)s is not a member of %(team)s.") % {"name": assignee.name, "team": task.team.name},
            code="not_a_member",
            fields={"assignee": [_("Not a member of the task's team.")]},
        )
    if refusal == "not_on_duty":
        raise InvalidInput(
            _("%(name)s is not on duty.") % {"name": assignee.name},
            code="not_on_duty",
            fields={"assignee": [_("Not on duty.")]},
        )
    return assignee


def _close_case_if_finished(*, case_id: int, actor: Staff | None, last_task_id: int, now: dt.datetime) -> None:
    """Close the case with its last open task, and write the case's own audit row."""
    case = Case.objects.select_for_update(no_key=True).get(pk=case_id)
    if case.state == Case.State.OPEN and not case.tasks.exclude(state__in=TERMINAL_STATES).exists():
        case.state = Case.State.CLOSED
        case.closed_at = now
        case.save(update_fields=["state", "closed_at"])
        CaseTransition.objects.create(
            case=case,
            transition="close",
            from_state=Case.State.OPEN,
            to_state=Case.State.CLOSED,
            actor=actor,
            at=now,
            details={"last_task": last_task_id},
        )
        webhooks.emit_case_closed(case)


def _schedule_follow_ups(*, task: Task, from_state: str, transition_id: int) -> None:
    """After the commit: the transition's notifications, and the robot's work it calls for
    (dispatch a task it just queued, or sweep the backlog when someone's capacity freed up)."""
    scheduling.after_commit(scheduling.NOTIFY_TRANSITION, transition_id)
    if task.state == TaskState.QUEUED and task.auto_dispatch and from_state != TaskState.QUEUED:
        scheduling.after_commit(scheduling.ROBOT_DISPATCH, task.pk)
    elif from_state in LOAD_STATES and task.state not in LOAD_STATES:
        scheduling.after_commit(scheduling.ROBOT_SWEEP, trigger="capacity")


@dataclass(frozen=True)
class BulkRefusal:
    task_id: int
    code: str
    detail: str


def task_transition_many(
    *,
    task_ids: list[int],
    actor: Staff,
    name: str,
    reason: str = "",
    assignee_id: int | None = None,
    team_code: str = "",
) -> list[Task]:
    """The same transition on several tasks, all or nothing (a coordinator's bulk action).

    Each task goes through `task_transition` (lock, permission, transition, audit row),
    in ascending id order so that two bulk actions lock rows in the same order. If any
    task refuses, nothing is written and InvalidInput lists every refusal in
    `fields["tasks"]`, one "T<id>: <reason>" line each.
    """
    ids = sorted(set(task_ids))
    if not ids:
        raise InvalidInput(_("Choose at least one task."), code="no_tasks", fields={"tasks": [_("Required.")]})
    if len(ids) > 500:
        raise InvalidInput(_("At most 500 tasks at a time."), code="too_many_tasks")
    refusals: list[BulkRefusal] = []
    done: list[Task] = []
    try:
        with transaction.atomic():
            # The locking protocol, once for the whole action: the task rows, then every
            # staff row whose open-task count the action may change, each in ascending order.
            holders = set(sql.tasks_for_update().filter(pk__in=ids).values_list("assignee_id", flat=True))
            holders.add(assignee_id if assignee_id is not None else actor.pk)
            sql.lock_staff(holders - {None})
            for task_id in ids:
                try:
                    with transaction.atomic():
                        done.append(
                            task_transition(
                                task_id=task_id,
                                actor=actor,
                                name=name,
                                reason=reason,
                                assignee_id=assignee_id,
                                team_code=team_code,
                            )
                        )
                except (ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed, ConcurrentChange) as exc:
                    refusals.append(BulkRefusal(task_id=task_id, code=exc.code, detail=exc.detail))
            if refusals:
                raise _RollBack
    except _RollBack:
        raise BulkRefused(refusals) from None
    return done


class BulkRefused(InvalidInput):
    """A bulk action refused as a whole; `refusals` says which tasks refused and why."""

    def __init__(self, refusals: list[BulkRefusal]) -> None:
        super().__init__(
            _("Nothing was changed: %(n)s of the chosen tasks refused.") % {"n": len(refusals)},
            code="bulk_refused",
            fields={"tasks": [f"T{r.task_id}: {r.detail}" for r in refusals]},
        )
        self.refusals = refusals  # structured, for screens that mark the refused rows


class _RollBack(Exception):
    """Raised inside the outer atomic block to undo a partly applied bulk action."""


# --- notes on a task -------------------------------------------------------------------------

COMMENT_MAX_CHARS = 4000
COMMENT_MAX_MENTIONS = 10
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+-]{1,150})")


def task_comment_add(*, actor: Staff, task_id: int, body: str) -> TaskComment:
    """Add an internal note to a task the actor may see; `@username` mentions tell those people.

    A blank note, one over COMMENT_MAX_CHARS characters, or more than COMMENT_MAX_MENTIONS
    mentions is refused before anything is read. A mention of someone unknown, or of
    someone who may not see the task (the note would show them work that is not theirs), is
    refused with their names, and nothing is written. The note and its notifications
    commit together.
    """
    text = (body or "").strip()
    if not text:
        raise InvalidInput(_("Write the note first."), code="body_required", fields={"body": [_("Required.")]})
    if len(text) > COMMENT_MAX_CHARS:
        raise InvalidInput(
            _("A note has at most %(n)s characters.") % {"n": COMMENT_MAX_CHARS},
            code="body_too_long",
            fields={"body": [_("Too long.")]},
        )
    usernames = list(dict.fromkeys(_MENTION.findall(text)))
    if len(usernames) > COMMENT_MAX_MENTIONS:
        raise InvalidInput(
            _("Mention at most %(n)s people in one note.") % {"n": COMMENT_MAX_MENTIONS},
            code="too_many_mentions",
            fields={"body": [_("Too many mentions.")]},
        )
    with transaction.atomic():
        task = Task.objects.select_related("team", "case", "item").filter(pk=task_id).first()
        if task is None or not access.can_see_task(actor, task):
            raise NotFound(_("No task %(id)s.") % {"id": task_id})
        people = list(
            Staff.objects.select_related("home_branch", "user")
            .prefetch_related("role_rows", "teams")
            .filter(user__username__in=usernames)
        )
        found = {person.user.username: person for person in people}
        unknown = [name for name in usernames if name not in found]
        blind = [person.name for person in people if not access.can_see_task(person, task)]
        if unknown or blind:
            problems = [_("No staff member %(name)s.") % {"name": "@" + name} for name in unknown]
            problems += [_("%(name)s may not see this task.") % {"name": name} for name in blind]
            raise InvalidInput(_("The note was not added."), code="bad_mention", fields={"body": problems})
        now = timezone.now()
        comment = TaskComment.objects.create(task=task, author=actor, body=text, created_at=now)
        comment.mentions.set(people)
        notifications.notify_mentioned(comment=comment, recipients=[p for p in people if p.pk != actor.pk])
    return comment


# --- joint handling (一问联办): sub-tasks -----------------------------------------------------

SUBTASK_TEAM_TIERS = frozenset({Tier.BACK, Tier.MIDDLE})
SUBTASK_PARENT_STATES = frozenset({TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_MATERIALS})
SUBTASK_MAX_DAYS = 60
SUBTASK_NOTE_MAX = 2000


def subtask_open(*, actor: Staff, parent_id: int, team_code: str, note: str, days: int | None = None) -> Task:
    """Open a sub-task of task `parent_id` for another team: of the branch, of another branch,
    or a city department's desk. It has its own team, dispatch (the robot picks someone in
    that team), assignee, time limit (`days` working days; the item's handling limit by
    default), history and result. The parent cannot complete or be submitted while it is
    open. The parent's holder or a supervisor opens it; both histories record it."""
    note = (note or "").strip()
    team_code = (team_code or "").strip()
    errors: dict[str, list[str]] = {}
    if not note:
        errors["note"] = [_("Say what the other team must do.")]
    elif len(note) > SUBTASK_NOTE_MAX:
        errors["note"] = [_("At most %(n)s characters.") % {"n": SUBTASK_NOTE_MAX}]
    team = Team.objects.select_related("branch").filter(code=team_code).first() if team_code else None
    if team is None:
        errors["team"] = [_("Choose the team that takes the sub-task.")]
    elif team.tier not in SUBTASK_TEAM_TIERS and team.kind != Team.Kind.DEPARTMENT:
        errors["team"] = [_("Sub-tasks go to back-office teams or department desks.")]
    if days is not None and not 1 <= days <= SUBTASK_MAX_DAYS:
        errors["days"] = [_("Between 1 and %(n)s working days.") % {"n": SUBTASK_MAX_DAYS}]
    if errors:
        code = "note_required" if "note" in errors and not note else ("unknown_team" if "team" in errors else None)
        raise InvalidInput(_("The sub-task was not opened."), code=code, fields=errors)
    assert team is not None

    with transaction.atomic():
        parent = sql.tasks_for_update().select_related("item", "taxpayer", "team", "case").filter(pk=parent_id).first()
        if parent is None or not access.can_see_task(actor, parent):
            raise NotFound(_("No task %(id)s.") % {"id": parent_id})
        denial = policy.subtask_denial(actor, parent)
        if denial is not None:
            raise ActionForbidden(denial.reason)
        if parent.state not in SUBTASK_PARENT_STATES:
            raise TransitionNotAllowed(
                _("Sub-tasks are opened while the work is under way, not while the task is “%(state)s”.")
                % {"state": parent.get_state_display()},
                code="parent_not_in_progress",
            )
        if parent.team_id == team.pk:
            raise InvalidInput(
                _("The sub-task must go to another team."), code="same_team", fields={"team": [_("Same team.")]}
            )
        now = timezone.now()
        limit = (
            days or parent.item.handling_limit_days or parent.item.time_limit_days or parent.item.transfer_limit_days
        )
        sub = Task.objects.create(
            parent=parent,
            case=parent.case,
            taxpayer=parent.taxpayer,
            item=parent.item,
            note=note,
            source=parent.source,
            tier=team.tier,
            team=team,
            state=TaskState.QUEUED,
            auto_dispatch=True,
            due_at=WorkCalendar.load().due_in_days(now, limit),
            created_at=now,
        )
        TaskTransition.objects.create(
            task=sub,
            transition=transitions.RECEIVE,
            from_state="",
            to_state=TaskState.QUEUED,
            actor=actor,
            at=now,
            details={"parent": parent.pk, "team": team.code, "limit_days": limit},
        )
        TaskTransition.objects.create(
            task=parent,
            transition=transitions.SUBTASK_OPEN,
            from_state=parent.state,
            to_state=parent.state,
            actor=actor,
            at=now,
            reason=note,
            details={"subtask": sub.pk, "team": team.code, "limit_days": limit},
        )
        clocks.refresh(sub)
        scheduling.after_commit(scheduling.ROBOT_DISPATCH, sub.pk)
    return sub
