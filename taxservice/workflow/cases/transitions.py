"""Every task transition, declared once.

A `Transition` names its django-fsm-2 method on `Task`, the inputs it takes (and which
are required), the roles that may make it and the extra rules on the actor, the
condition that can refuse it with a code and a sentence, the notification it sends, its
label, where the browser shows it, and how its inputs become the method's arguments and
the audit row's details. Everything else is derived from `TRANSITIONS`:

- the permission checks (`policy.transition_denial`);
- the service's argument handling and required-input checks (`services.task_transition`);
- the browser's step forms and buttons (`web.forms.TransitionForm`, the task page's order),
  the counter's steps at the front desk and the hub's bulk actions;
- the API's transition request, its validation and its OpenAPI schema (one request shape
  per transition: `api.serializers.transition_request_serializer`);
- the notifications (`notifications.notify_for_transition`).

Adding a transition is one declaration here plus its FSM method on `Task` (and the
translations of its label and messages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from taxservice.access import APPROVERS, HANDLERS, SUPERVISORS, WORKERS, can_decide_extensions
from taxservice.errors import InvalidInput
from taxservice.org.models import Role, Team
from taxservice.workflow.cases.models import Channel, TaskTransition, current_approval_step
from taxservice.workflow.routing import engine

if TYPE_CHECKING:
    from taxservice.org.models import Staff
    from taxservice.workflow.cases.models import Task

R = Role

# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputKind:
    """One kind of input a step can take; each front end renders it its own way."""

    name: str
    label: Promise
    kind: str  # "text" | "staff" | "channel" | "team" | "days"
    help: str = ""


INPUT_KINDS: dict[str, InputKind] = {
    kind.name: kind
    for kind in (
        InputKind("reason", _("Reason"), "text"),
        InputKind("result", _("Result"), "text"),
        InputKind("assignee", _("Assignee"), "staff", "A staff id; the caller by default."),
        InputKind("channel", _("Feedback channel"), "channel", "The case's channel by default."),
        InputKind("team", _("Send to team"), "team", "A team code."),
        InputKind("days", _("Extra working days"), "days", "Working days, 1 or more."),
    )
}


@dataclass(frozen=True)
class Input:
    required: bool = False
    label: Promise | None = None  # a more precise label than the kind's, for this step
    missing: Promise | None = None  # what to say when a required input is blank, if not the kind's
    prefill: str = ""  # the Task field whose current value fills the box (words already written)


@dataclass(frozen=True)
class Values:
    """The inputs of one request, cleaned (stripped text; an assignee already resolved)."""

    reason: str = ""
    result: str = ""
    assignee: Staff | None = None
    channel: str = ""
    team: str = ""
    days: int | None = None


@dataclass
class Step:
    """What a transition's inputs become: the FSM method's arguments, the audit row's
    details, and a hub alert to raise (screening found no rule or no team)."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    alert: str = ""


@dataclass(frozen=True)
class Condition:
    """The FSM condition that can refuse the step: its API code and the sentence people read."""

    code: str
    message: Promise


# --- the specification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    name: str  # the API's name for it, and the audit row's `transition`
    label: Promise
    roles: frozenset[str]
    method: str = ""  # the FSM method on Task; the name by default
    inputs: Mapping[str, Input] = field(default_factory=dict)
    # Only the task's holder takes this step (supervisors may step in for them).
    holder_only: bool = False
    # Nobody but its holder (or a supervisor) may take it while someone holds the task.
    holder_or_supervisor: bool = False
    # The actor may not decide on work they did themselves (four eyes): they never held
    # the task, did its work, or decided an earlier step of this approval round.
    four_eyes: bool = False
    # A decision a branch chief's deputy may take for them while a delegation runs.
    delegable: bool = False
    # Finishes the work: refused while a sub-task is open (code `subtasks_open`).
    waits_for_subtasks: bool = False
    # Someone placed the task (a holder, a team): the hub's open alerts on it are settled.
    settles_alerts: bool = False
    condition: Condition | None = None
    notify: str | None = None  # a gettext_noop template: %(task)s, %(item)s, %(reason)s
    # The browser: folded away until opened, shown as a warning, a one-click button on lists,
    # one of the counter's steps, one of the hub's bulk actions.
    folded: bool = False
    danger: bool = False
    one_click: bool = False
    counter: bool = False
    bulk: bool = False
    build: Callable[[Task, Values], Step] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.inputs) - set(INPUT_KINDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown inputs {sorted(unknown)}")
        if not self.method:
            object.__setattr__(self, "method", self.name)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.inputs.items() if spec.required)

    def input_label(self, name: str) -> Promise:
        spec = self.inputs.get(name)
        return spec.label if spec is not None and spec.label is not None else INPUT_KINDS[name].label

    def step(self, task: Task, values: Values) -> Step:
        return self.build(task, values) if self.build is not None else Step()


# --- how inputs become arguments ----------------------------------------------------------------


def _result_step(task: Task, values: Values) -> Step:
    return Step({"result": values.result}, {"result": values.result} if values.result else {})


def _transfer_step(task: Task, values: Values) -> Step:
    found = engine.classify(item=task.item, source=task.source, taxpayer=task.taxpayer)
    return Step(
        {"tier": found.tier, "team": found.team, "auto_dispatch": found.auto_dispatch},
        {
            "tier": found.tier,
            "team": found.team.code if found.team else None,
            "rule": found.rule.pk if found.rule else None,
            "rule_version": found.rule.version if found.rule else None,
            "auto_dispatch": found.auto_dispatch,
        },
        alert=found.flag,
    )


def _assign_step(task: Task, values: Values) -> Step:
    assignee = values.assignee
    assert assignee is not None
    if assignee.pk == task.assignee_id:
        # Nothing would change: no transition row (the page and the API alike).
        raise InvalidInput(
            gettext("The task is already assigned to %(name)s.") % {"name": assignee.name},
            code="same_assignee",
            fields={"assignee": [gettext("Choose someone else.")]},
        )
    return Step(
        {"assignee": assignee},
        {"assignee": assignee.pk, "assignee_name": assignee.name, "from_assignee": task.assignee_id},
    )


def _reroute_step(task: Task, values: Values) -> Step:
    team = Team.objects.filter(code=values.team).first() if values.team else None
    if team is None:
        raise InvalidInput(
            gettext("Name the team to send the task to."),
            code="unknown_team",
            fields={"team": [gettext("Unknown team.")]},
        )
    return Step(
        {"tier": team.tier, "team": team}, {"team": team.code, "from_team": task.team.code if task.team else None}
    )


def _receive_materials_step(task: Task, values: Values) -> Step:
    # The wait, for the history; the clocks take it from the log (clocks.derive).
    requested = TaskTransition.objects.filter(task=task, transition="request_materials").order_by("-at", "-id").first()
    paused_for = timezone.now() - requested.at if requested else dt.timedelta(0)
    return Step({}, {"paused_seconds": int(paused_for.total_seconds())})


def _request_extension_step(task: Task, values: Values) -> Step:
    days = values.days or 0
    left = task.item.extension_cap_days - task.extension_granted_days
    if days < 1 or days > left:
        raise InvalidInput(
            gettext("At most %(left)s more working days can be granted for this item (the cap is %(cap)s).")
            % {"left": max(left, 0), "cap": task.item.extension_cap_days},
            code="extension_cap_exceeded",
            fields={"days": [gettext("Between 1 and %(left)s.") % {"left": max(left, 0)}]},
        )
    return Step({"days": days}, {"days": days, "due_at": task.due_at.isoformat()})


def _approval_step(task: Task, values: Values) -> Step:
    # The step decided and of how many, for the history (each step with its opinion).
    return Step({}, {"step": current_approval_step(task), "of": task.item.approval_levels})


def _decide_extension_step(task: Task, values: Values) -> Step:
    # The days decided on, in the log: clocks.derive adds granted days from these rows.
    return Step({}, {"days": task.extension_requested_days})


def _escalate_step(task: Task, values: Values) -> Step:
    found = engine.escalation(item=task.item, source=task.source, taxpayer=task.taxpayer)
    team = found.team
    return Step(
        {"team": team, "auto_dispatch": found.auto_dispatch},
        {"team": team.code if team else None, "from_assignee": task.assignee_id, "auto_dispatch": found.auto_dispatch},
    )


def _return_step(task: Task, values: Values) -> Step:
    return Step({}, {"from_assignee": task.assignee_id})


def _feedback_step(task: Task, values: Values) -> Step:
    channel = values.channel or (task.case.channel if task.case is not None else "")
    if channel not in Channel.values:
        raise InvalidInput(
            gettext("Unknown channel %(channel)s.") % {"channel": channel}, fields={"channel": [gettext("Unknown.")]}
        )
    return Step({"result": values.result, "channel": channel}, {"result": values.result, "channel": channel})


# --- the transitions, in the order the task page offers them --------------------------------

REASON = Input(required=True)

TRANSITIONS: dict[str, Transition] = {
    spec.name: spec
    for spec in (
        Transition(
            "handle_on_spot",
            _("Handle on the spot"),
            roles=frozenset({R.CLERK}),
            inputs={
                "result": Input(
                    required=True,
                    label=_("Result given to the taxpayer"),
                    missing=_("Record the result given to the taxpayer."),
                )
            },
            condition=Condition(
                "not_immediate", _("Only 一问即办 items can be handled on the spot; transfer this one.")
            ),
            counter=True,
            build=_result_step,
        ),
        Transition(
            "transfer",
            _("Transfer"),
            roles=frozenset({R.CLERK, R.COORDINATOR}),
            one_click=True,
            counter=True,
            build=_transfer_step,
        ),
        Transition(
            "assign",
            _("Assign"),
            roles=WORKERS,
            inputs={"assignee": Input()},
            settles_alerts=True,
            notify=gettext_noop("Task T%(task)s (%(item)s) was assigned to you."),
            one_click=True,
            bulk=True,
            build=_assign_step,
        ),
        Transition("accept", _("Accept"), roles=WORKERS, holder_only=True, one_click=True),
        Transition(
            "complete",
            _("Complete"),
            roles=WORKERS,
            inputs={"result": Input(required=True, missing=_("Record what was done."), prefill="result")},
            holder_only=True,
            waits_for_subtasks=True,
            condition=Condition("needs_approval", _("This item needs approval: submit it for approval instead.")),
            build=_result_step,
        ),
        Transition(
            "submit_for_approval",
            _("Submit for approval"),
            roles=WORKERS,
            inputs={
                "result": Input(
                    required=True, missing=_("Record what was done: the approver decides on it."), prefill="result"
                )
            },
            holder_only=True,
            waits_for_subtasks=True,
            condition=Condition("needs_no_approval", _("This item needs no approval: complete it instead.")),
            build=_result_step,
        ),
        Transition(
            "approve",
            _("Approve"),
            roles=APPROVERS,
            inputs={"reason": Input(label=_("Opinion"))},
            four_eyes=True,
            delegable=True,
            notify=gettext_noop("Task T%(task)s (%(item)s) was approved."),
            build=_approval_step,
        ),
        Transition(
            "reject",
            _("Reject"),
            roles=APPROVERS,
            inputs={"reason": Input(required=True, label=_("Opinion"))},
            four_eyes=True,
            delegable=True,
            notify=gettext_noop("Task T%(task)s (%(item)s) was rejected by the approver: %(reason)s"),
            danger=True,
            build=_approval_step,
        ),
        Transition(
            "send_back",
            _("Return for more work"),
            roles=APPROVERS,
            inputs={"reason": Input(required=True, label=_("What is missing"))},
            four_eyes=True,
            delegable=True,
            notify=gettext_noop("Task T%(task)s (%(item)s) was returned for more work: %(reason)s"),
            build=_approval_step,
        ),
        Transition(
            "give_feedback",
            _("Give feedback"),
            roles=frozenset({R.CLERK, *WORKERS}),
            inputs={
                "result": Input(
                    required=True,
                    label=_("Result returned to the taxpayer"),
                    missing=_("Record the result returned to the taxpayer."),
                ),
                "channel": Input(),
            },
            build=_feedback_step,
        ),
        Transition(
            "receive_materials",
            _("Materials received"),
            roles=frozenset({R.CLERK, *WORKERS}),
            one_click=True,
            build=_receive_materials_step,
        ),
        Transition(
            "request_materials",
            _("Request materials"),
            roles=WORKERS,
            inputs={
                "reason": Input(
                    required=True,
                    label=_("Materials needed"),
                    missing=_("Say which materials the taxpayer must provide."),
                )
            },
            holder_only=True,
            folded=True,
        ),
        Transition(
            "request_extension",
            _("Request an extension"),
            roles=WORKERS,
            inputs={
                "days": Input(required=True, missing=_("Say how many working days are needed.")),
                "reason": Input(required=True, missing=_("Say why more time is needed.")),
            },
            holder_only=True,
            condition=Condition("extension_pending", _("An extension is already waiting for the chief's decision.")),
            folded=True,
            build=_request_extension_step,
        ),
        Transition(
            "approve_extension",
            _("Grant the extension"),
            roles=can_decide_extensions.roles,
            inputs={"reason": Input(label=_("Opinion"))},
            four_eyes=True,
            delegable=True,
            condition=Condition("no_extension_pending", _("No extension is waiting for a decision.")),
            notify=gettext_noop("Task T%(task)s (%(item)s): the extension was granted."),
            build=_decide_extension_step,
        ),
        Transition(
            "reject_extension",
            _("Refuse the extension"),
            roles=can_decide_extensions.roles,
            inputs={"reason": Input(required=True, label=_("Opinion"))},
            four_eyes=True,
            delegable=True,
            condition=Condition("no_extension_pending", _("No extension is waiting for a decision.")),
            notify=gettext_noop("Task T%(task)s (%(item)s): the extension was refused: %(reason)s"),
            danger=True,
            build=_decide_extension_step,
        ),
        Transition(
            "reassign",
            _("Reassign"),
            roles=SUPERVISORS,
            inputs={"assignee": Input(required=True), "reason": REASON},
            settles_alerts=True,
            folded=True,
            build=_assign_step,
        ),
        Transition(
            "reroute",
            _("Send to another team"),
            roles=frozenset({R.COORDINATOR}),
            inputs={"team": Input(required=True), "reason": REASON},
            settles_alerts=True,
            folded=True,
            bulk=True,
            build=_reroute_step,
        ),
        Transition(
            "return",
            _("Return to the queue"),
            method="return_to_queue",  # `return` is a Python keyword
            roles=WORKERS,
            inputs={"reason": REASON},
            holder_or_supervisor=True,
            folded=True,
            danger=True,
            bulk=True,
            build=_return_step,
        ),
        Transition(
            "escalate",
            _("Escalate to the back office"),
            roles=frozenset({*HANDLERS, R.COORDINATOR}),
            inputs={"reason": REASON},
            holder_only=True,
            condition=Condition("already_in_back_office", _("The task is already in the back office.")),
            folded=True,
            build=_escalate_step,
        ),
        Transition(
            "cancel",
            _("Cancel the task"),
            roles=frozenset({R.CLERK, R.COORDINATOR, R.BRANCH_CHIEF}),
            inputs={"reason": REASON},
            folded=True,
            danger=True,
        ),
    )
}
# The audit row's name for a task's first row (a case opened, a task pushed in): not a
# transition anyone makes, but the history shows it.
RECEIVE = "receive"
RECEIVE_LABEL = _("Receive")

# Rows the system writes into a task's history that are not transitions anyone makes: a
# recomputation of its due times, and the escalation ladder's steps.
RECOMPUTE_DUE = "recompute_due"
# On the parent's history: a sub-task was opened for another team (details: subtask, team).
SUBTASK_OPEN = "open_subtask"
SYSTEM_LABELS = {
    RECEIVE: RECEIVE_LABEL,
    RECOMPUTE_DUE: _("Due times recomputed"),
    "remind": _("Reminder"),
    "urge": _("Urged (催办)"),
    "supervise": _("Supervision notice (督办)"),
    "notice": _("Public notice (通报)"),
    "field_check": _("Field check recorded"),  # fieldchecks.services.field_check_record
}

# For choice fields and the OpenAPI enum.
NAMES: tuple[str, ...] = tuple(TRANSITIONS)
CHOICES: list[tuple[str, str]] = [(name, name) for name in NAMES]
COUNTER_STEPS: tuple[str, ...] = tuple(name for name, spec in TRANSITIONS.items() if spec.counter)
BULK_STEPS: tuple[str, ...] = tuple(name for name, spec in TRANSITIONS.items() if spec.bulk)
ONE_CLICK_STEPS: tuple[str, ...] = tuple(name for name, spec in TRANSITIONS.items() if spec.one_click)


_MISSING = {
    "reason": _("A reason is required for this step."),
    "result": _("Record the result for the taxpayer."),
    "assignee": _("Choose whom to assign the task to."),
    "channel": _("Choose the channel."),
    "team": _("Name the team to send the task to."),
    "days": _("Say how many working days."),
}


def check_required(spec: Transition, given: Mapping[str, Any]) -> None:
    """Refuse a step whose required inputs are missing or blank, naming each one.

    InvalidInput with code `<first missing input>_required`, its sentence, and "Required." on each field.
    The service checks this before it reads anything; the API's request parser calls it
    too, so a missing key and a blank value get the same answer.
    """
    missing = [
        name
        for name, spec_input in spec.inputs.items()
        if spec_input.required and (given.get(name) is None or str(given.get(name)).strip() == "")
    ]
    if not missing:
        return
    first = spec.inputs[missing[0]].missing or _MISSING[missing[0]]
    raise InvalidInput(
        str(first), code=f"{missing[0]}_required", fields={name: [gettext("Required.")] for name in missing}
    )


def get(name: str) -> Transition | None:
    return TRANSITIONS.get(name)


def label(name: str) -> str:
    """A transition's label in the active language (also for the audit log's `receive`)."""
    if name in SYSTEM_LABELS:
        return str(SYSTEM_LABELS[name])
    spec = TRANSITIONS.get(name)
    return str(spec.label) if spec is not None else name


def position(name: str) -> int:
    """Where the task page shows the step: the declaration order."""
    return NAMES.index(name) if name in TRANSITIONS else len(NAMES)


def method_of(task: Task, name: str) -> Callable[..., None]:
    return getattr(task, TRANSITIONS[name].method)
