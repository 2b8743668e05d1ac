"""The chief's desk's writes (分局长统筹, docs/back-office.md): reminders to a task's holder,
a chief's deputy while away, bulk approval of one item's tasks, and rebalancing a person's
tasks onto others. The desk page and the API call these, and only these.

Each write runs in one transaction with its audit rows: a reminder is a log row on the task
and the holder's notification together; a delegation row records who named or revoked it,
when and why; the bulk steps go through `services.task_transition_many` (all or nothing,
each task's own transition and log row).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from taxservice import access
from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Delegation, Role, Staff
from taxservice.workflow import sql
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import OPEN_STATES, Notification, Task, TaskTransition
from taxservice.workflow.cases.services import BulkRefusal, BulkRefused

# --- reminders (催办 / 督办) ------------------------------------------------------------------

URGE = "urge"
SUPERVISE = "supervise"
REMINDER_KINDS = (URGE, SUPERVISE)  # their labels: transitions.SYSTEM_LABELS
REMINDER_MAX_CHARS = 500
_REMINDER_TEXT = {
    URGE: gettext_noop("%(who)s urges you on task T%(task)s (%(item)s): %(text)s"),
    SUPERVISE: gettext_noop("%(who)s sent a supervision notice on task T%(task)s (%(item)s): %(text)s"),
}


def reminder_send(*, actor: Staff, task_id: int, kind: str, message: str) -> TaskTransition:
    """A branch chief (or a coordinator) urges (催办) or supervises (督办) a task's holder.

    One log row on the task (transition `kind`, the state unchanged, the message as its
    reason) and one notification to the holder pointing at it, in one transaction: the
    reminder lands in the holder's inbox with the task. Raises InvalidInput (`unknown_kind`,
    `message_required`, `message_too_long`), ActionForbidden, NotFound (also for a task the
    actor may not see) or TransitionNotAllowed (`no_assignee`, `task_not_open`).
    """
    access.require(access.can_send_reminders, actor)
    if kind not in REMINDER_KINDS:
        raise InvalidInput(
            _("Unknown reminder kind %(kind)s.") % {"kind": kind}, code="unknown_kind", fields={"kind": [_("Unknown.")]}
        )
    text = (message or "").strip()
    if not text:
        raise InvalidInput(
            _("Write the message to the task's holder."), code="message_required", fields={"message": [_("Required.")]}
        )
    if len(text) > REMINDER_MAX_CHARS:
        raise InvalidInput(
            _("At most %(n)s characters.") % {"n": REMINDER_MAX_CHARS},
            code="message_too_long",
            fields={"message": [_("Too long.")]},
        )
    with transaction.atomic():
        task = sql.tasks_for_update().select_related("item", "team", "case", "assignee").filter(pk=task_id).first()
        if task is None or not access.can_see_task(actor, task):
            raise NotFound(_("No task %(id)s.") % {"id": task_id})
        if task.state not in OPEN_STATES:
            raise TransitionNotAllowed(_("Task T%(task)s is no longer open.") % {"task": task.pk}, code="task_not_open")
        if task.assignee_id is None or task.assignee is None:
            raise TransitionNotAllowed(
                _("Nobody holds task T%(task)s: dispatch it first.") % {"task": task.pk}, code="no_assignee"
            )
        now = timezone.now()
        log = TaskTransition.objects.create(
            task=task,
            transition=kind,
            from_state=task.state,
            to_state=task.state,
            actor=actor,
            at=now,
            reason=text,
            details={"assignee_name": task.assignee.name},
        )
        with translation.override(settings.LANGUAGE_CODE):  # the bureau's language, as every notification
            note = _(_REMINDER_TEXT[kind]) % {"who": actor.name, "task": task.pk, "item": task.item.name, "text": text}
        Notification.objects.create(
            recipient_id=task.assignee_id, task=task, transition=log, message=note[:200], created_at=now
        )
    return log


# --- delegation (代理) ------------------------------------------------------------------------

DELEGATION_MAX_DAYS = 30
DELEGATION_REASON_MAX = 200


def delegation_create(
    *,
    actor: Staff,
    deputy_id: int | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    reason: str,
    chief_id: int | None = None,
) -> Delegation:
    """Name a deputy for a branch chief while they are away: the chief for themselves, an
    administrator for any chief. The deputy is staff of the chief's branch scope, not the
    chief; the window ends after it starts, not in the past, and lasts at most
    DELEGATION_MAX_DAYS. InvalidInput names every bad field (its code is the first problem)."""
    access.require(access.can_delegate, actor)
    if chief_id is None or chief_id == actor.pk:
        chief: Staff | None = actor
    elif access.is_admin(actor):
        chief = Staff.objects.select_related("home_branch").prefetch_related("role_rows").filter(pk=chief_id).first()
    else:
        raise ActionForbidden(_("A branch chief names a deputy for themselves only."))
    errors: dict[str, list[str]] = {}
    codes: list[str] = []

    def refuse(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(message)
        codes.append(code)

    if chief is None or not chief.has_role(Role.BRANCH_CHIEF):
        refuse("chief", "not_a_chief", _("Only a branch chief's decisions can be delegated."))
    text = (reason or "").strip()
    if not text:
        refuse("reason", "reason_required", _("Say why (for example, the dates of the leave)."))
    elif len(text) > DELEGATION_REASON_MAX:
        refuse("reason", "reason_too_long", _("At most %(n)s characters.") % {"n": DELEGATION_REASON_MAX})
    deputy = Staff.objects.select_related("home_branch").filter(pk=deputy_id).first() if deputy_id is not None else None
    if deputy is None:
        refuse("deputy", "unknown_deputy", _("Choose the deputy."))
    elif chief is not None and deputy.pk == chief.pk:
        refuse("deputy", "deputy_is_chief", _("A chief cannot be their own deputy."))
    elif chief is not None and deputy.home_branch_id not in access.staff_branch_scope(chief):
        refuse("deputy", "deputy_outside_branch", _("The deputy must work in the chief's branch."))
    now = timezone.now()
    if starts_at is None:
        refuse("starts_at", "starts_at_required", _("Required."))
    if ends_at is None:
        refuse("ends_at", "ends_at_required", _("Required."))
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            refuse("ends_at", "ends_before_start", _("The end must come after the start."))
        elif ends_at - starts_at > dt.timedelta(days=DELEGATION_MAX_DAYS):
            refuse(
                "ends_at",
                "too_long",
                _("A delegation lasts at most %(n)s days.") % {"n": DELEGATION_MAX_DAYS},
            )
        elif ends_at <= now:
            refuse("ends_at", "ends_in_past", _("The end is already past."))
    if errors or chief is None or deputy is None or starts_at is None or ends_at is None:
        raise InvalidInput(_("The deputy was not named."), code=codes[0] if codes else None, fields=errors)
    with transaction.atomic():
        return Delegation.objects.create(
            chief=chief,
            deputy=deputy,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=text,
            created_by=actor,
            created_at=now,
        )


def delegation_revoke(*, actor: Staff, delegation_id: int, reason: str) -> Delegation:
    """End a delegation before its time: its chief or an administrator, with a reason. The
    row stays (who revoked it, when, why). NotFound for a delegation that is not theirs;
    TransitionNotAllowed `already_revoked` or `already_ended`."""
    access.require(access.can_delegate, actor)
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(
            _("Say why the delegation ends early."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    if len(text) > DELEGATION_REASON_MAX:
        raise InvalidInput(
            _("At most %(n)s characters.") % {"n": DELEGATION_REASON_MAX},
            code="reason_too_long",
            fields={"reason": [_("Too long.")]},
        )
    with transaction.atomic():
        row = Delegation.objects.select_for_update().filter(pk=delegation_id).first()
        if row is None or not (access.is_admin(actor) or row.chief_id == actor.pk):
            raise NotFound(_("No delegation %(id)s.") % {"id": delegation_id})
        now = timezone.now()
        if row.revoked_at is not None:
            raise TransitionNotAllowed(_("This delegation was already revoked."), code="already_revoked")
        if row.ends_at <= now:
            raise TransitionNotAllowed(_("This delegation has already ended."), code="already_ended")
        row.revoked_at = now
        row.revoked_by = actor
        row.revoke_reason = text
        row.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return row


# --- bulk approval and rebalancing -------------------------------------------------------------


def approve_many(*, actor: Staff, task_ids: list[int], opinion: str = "") -> list[Task]:
    """Approve several tasks of one catalogue item with one opinion, all or nothing.

    InvalidInput `no_tasks` or `mixed_items` (the chosen tasks are of more than one item)
    before anything is locked; BulkRefused (`bulk_refused`, its `refusals` naming each
    blocking task: not visible, not awaiting approval, four eyes, not this approver's step…)
    when any task refuses, and then nothing is written."""
    ids = sorted(set(task_ids))
    if not ids:
        raise InvalidInput(_("Choose at least one task."), code="no_tasks", fields={"tasks": [_("Required.")]})
    visible = dict(selectors.task_list_for_staff(staff=actor).filter(pk__in=ids).values_list("pk", "item_id"))
    if len(set(visible.values())) > 1:
        raise InvalidInput(
            _("Approve the tasks of one item at a time: the chosen tasks are of %(n)s items.")
            % {"n": len(set(visible.values()))},
            code="mixed_items",
            fields={"tasks": [_("Tasks of more than one item.")]},
        )
    hidden = [pk for pk in ids if pk not in visible]
    if hidden:  # another branch's task: refused as unknown, never named as existing
        raise BulkRefused(
            [BulkRefusal(task_id=pk, code="not_found", detail=_("No task %(id)s.") % {"id": pk}) for pk in hidden]
        )
    return services.task_transition_many(task_ids=ids, actor=actor, name="approve", reason=opinion)


def rebalance(*, actor: Staff, task_ids: list[int], assignee_ids: list[int], reason: str) -> list[Task]:
    """Move the chosen tasks to the chosen people, shared out in turn (the lowest task id to
    the first person), each through the `reassign` transition: all or nothing. A refusal of
    any task (BulkRefused naming them all) writes nothing."""
    access.require(access.can_use_desk, actor)
    ids = sorted(set(task_ids))
    people = list(dict.fromkeys(assignee_ids))
    if not ids:
        raise InvalidInput(_("Choose at least one task."), code="no_tasks", fields={"tasks": [_("Required.")]})
    if not people:
        raise InvalidInput(
            _("Choose whom to give the tasks to."), code="assignee_required", fields={"assignee": [_("Required.")]}
        )
    shares: dict[int, list[int]] = defaultdict(list)
    for i, task_id in enumerate(ids):
        shares[people[i % len(people)]].append(task_id)
    refusals: list[BulkRefusal] = []
    done: list[Task] = []
    try:
        with transaction.atomic():
            for person, share in shares.items():
                try:
                    done += services.task_transition_many(
                        task_ids=share, actor=actor, name="reassign", reason=reason, assignee_id=person
                    )
                except BulkRefused as refused:
                    refusals += refused.refusals
                except InvalidInput as refused:  # e.g. no reason: the same for every share
                    raise refused from None
            if refusals:
                raise _RollBack
    except _RollBack:
        raise BulkRefused(sorted(refusals, key=lambda refusal: refusal.task_id)) from None
    return done


class _RollBack(Exception):
    """Undo the shares already moved when a later share refuses."""
