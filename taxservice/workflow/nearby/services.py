"""Writes on door-to-door visits and collected materials. The pages and the API call these.

Each change runs in one transaction: the row is locked (`select_for_update`), the actor's
permission checked (`policy`), the state changed and saved, and one append-only log row
written (`VisitEvent`, `CollectionStep`). On any error nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Staff, Team
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Task
from taxservice.workflow.nearby import policy, selectors
from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent

V = Visit.State
C = Collection.State


def visit_schedule(
    *,
    actor: Staff,
    taxpayer: str,
    scheduled_for: dt.date | None,
    address: str,
    purpose: str,
    staff_id: int | None = None,
) -> Visit:
    """Schedule a door-to-door visit (上门办) to the taxpayer with credit code `taxpayer`.

    The visit belongs to the taxpayer's grid; `staff_id` (the actor by default) is who goes
    and must be of that grid's group or its leader. The date may not be in the past.
    """
    errors: dict[str, list[str]] = {}
    address, purpose = (address or "").strip(), (purpose or "").strip()
    payer = Taxpayer.objects.filter(credit_code=(taxpayer or "").strip()).select_related("grid").first()
    if payer is None:
        errors["taxpayer"] = [_("No taxpayer has the credit code %(code)s.") % {"code": taxpayer}]
    if scheduled_for is None:
        errors["scheduled_for"] = [_("Give the day of the visit.")]
    elif scheduled_for < timezone.localdate():
        errors["scheduled_for"] = [_("A visit cannot be scheduled for a day in the past.")]
    if not address:
        errors["address"] = [_("Give the address to visit.")]
    elif len(address) > 200:
        errors["address"] = [_("At most 200 characters.")]
    if not purpose:
        errors["purpose"] = [_("Say what the visit is for.")]
    elif len(purpose) > 200:
        errors["purpose"] = [_("At most 200 characters.")]
    goer = actor if staff_id is None else Staff.objects.filter(pk=staff_id).first()
    if goer is None:
        errors["staff"] = [_("No such staff member.")]
    if errors or payer is None or goer is None or scheduled_for is None:
        raise InvalidInput(_("The visit was not scheduled."), fields=errors)
    grid = payer.grid
    if not policy.may_work_visits(actor, grid):
        raise ActionForbidden(str(policy.VISIT_REFUSAL))
    if not policy.may_go_on_visit(goer, grid):
        raise InvalidInput(
            _("The visit was not scheduled."),
            code="staff_not_of_grid",
            fields={"staff": [_("%(name)s is not one of this grid's staff.") % {"name": goer.name}]},
        )
    now = timezone.now()
    with transaction.atomic():
        visit = Visit.objects.create(
            taxpayer=payer,
            grid=grid,
            scheduled_for=scheduled_for,
            staff=goer,
            address=address,
            purpose=purpose,
            created_by=actor,
            created_at=now,
        )
        VisitEvent.objects.create(
            visit=visit, action="schedule", from_state="", to_state=V.SCHEDULED, actor=actor, at=now, note=purpose
        )
    return visit


def visit_record(*, actor: Staff, visit_id: int, outcome: str) -> Visit:
    """Record a scheduled visit's outcome: it is done."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise InvalidInput(
            _("The outcome was not recorded."),
            code="outcome_required",
            fields={"outcome": [_("Say what came of the visit.")]},
        )
    return _visit_close(actor=actor, visit_id=visit_id, to=V.DONE, action="record", note=outcome)


def visit_cancel(*, actor: Staff, visit_id: int, reason: str) -> Visit:
    """Cancel a scheduled visit, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("The visit was not cancelled."),
            code="reason_required",
            fields={"reason": [_("Say why the visit is cancelled.")]},
        )
    return _visit_close(actor=actor, visit_id=visit_id, to=V.CANCELLED, action="cancel", note=reason)


def _visit_close(*, actor: Staff, visit_id: int, to: str, action: str, note: str) -> Visit:
    with transaction.atomic():
        visit = (
            selectors.visit_list_for_staff(staff=actor)
            .select_for_update(of=("self",))
            .select_related("grid")
            .filter(pk=visit_id)
            .first()
        )
        if visit is None:
            raise NotFound(_("No such visit, or not one you may see."))
        if not policy.may_record_visit(actor, visit):
            raise ActionForbidden(str(policy.VISIT_REFUSAL))
        if visit.state != V.SCHEDULED:
            raise TransitionNotAllowed(
                _("The visit is %(state)s already.") % {"state": visit.get_state_display().lower()}
            )
        now = timezone.now()
        before = visit.state
        visit.state = to
        visit.closed_at = now
        if to == V.DONE:
            visit.outcome = note
            visit.recorded_by = actor
        visit.save(update_fields=["state", "closed_at", "outcome", "recorded_by"])
        VisitEvent.objects.create(
            visit=visit, action=action, from_state=before, to_state=to, actor=actor, at=now, note=note
        )
    return visit


@dataclass(frozen=True)
class Step:
    name: str
    source: str
    target: str


# The materials' way, in order: from the point to the team, and back to the taxpayer.
STEPS = {
    step.name: step
    for step in (
        Step("hand_over", C.COLLECTED, C.HANDED_OVER),
        Step("receive", C.HANDED_OVER, C.RECEIVED),
        Step("return", C.RECEIVED, C.RETURNED),
    )
}


def collection_open(
    *,
    actor: Staff,
    service_point: str,
    case_id: int,
    materials: str,
    task_id: int | None = None,
    team: str = "",
    note: str = "",
) -> Collection:
    """Record materials collected at a service point for a case (代收办).

    The handling team is `team` (a code) or, when it is not given, the task's team; one of
    them is needed. The case (and the task) must be one the actor may see.
    """
    if not policy.may_collect(actor):
        raise ActionForbidden(str(policy.COLLECT_REFUSAL))
    errors: dict[str, list[str]] = {}
    materials = (materials or "").strip()
    point = ServicePoint.objects.filter(code=(service_point or "").strip(), active=True).first()
    if point is None:
        errors["service_point"] = [_("No active service point has the code %(code)s.") % {"code": service_point}]
    if not materials:
        errors["materials"] = [_("List the materials collected.")]
    case = selectors.visible_cases(staff=actor).filter(pk=case_id).first()
    if case is None:
        errors["case"] = [_("No such case, or not one you may see.")]
    task_obj: Task | None = None
    if task_id is not None:
        task_obj = Task.objects.filter(pk=task_id, case_id=case_id).select_related("team").first()
        if task_obj is None:
            errors["task"] = [_("The task is not one of the case's.")]
    team_obj: Team | None = None
    if team:
        team_obj = Team.objects.filter(code=team.strip()).first()
        if team_obj is None:
            errors["team"] = [_("No team has the code %(code)s.") % {"code": team}]
    elif task_obj is not None:
        team_obj = task_obj.team
    if team_obj is None and "team" not in errors and "task" not in errors:
        errors["team"] = [_("Name the team the materials go to (or a task that has one).")]
    if len(note) > 500:
        errors["note"] = [_("At most 500 characters.")]
    if errors or point is None or case is None or team_obj is None:
        code = "team_required" if list(errors) == ["team"] else None
        raise InvalidInput(_("The materials were not recorded."), code=code, fields=errors)
    now = timezone.now()
    with transaction.atomic():
        collection = Collection.objects.create(
            service_point=point,
            case=case,
            task=task_obj,
            team=team_obj,
            materials=materials,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        CollectionStep.objects.create(
            collection=collection, step="collect", from_state="", to_state=C.COLLECTED, actor=actor, at=now, note=note
        )
    return collection


def collection_step(*, actor: Staff, collection_id: int, step: str, note: str = "") -> Collection:
    """Move collected materials one step on: `hand_over`, `receive` or `return`."""
    spec = STEPS.get(step)
    if spec is None:
        raise InvalidInput(_("Unknown step %(step)s.") % {"step": step}, code="unknown_step")
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput(_("The step was not made."), fields={"note": [_("At most 500 characters.")]})
    with transaction.atomic():
        collection = (
            selectors.collection_list_for_staff(staff=actor)
            .select_for_update(of=("self",))
            .select_related("team")
            .filter(pk=collection_id)
            .first()
        )
        if collection is None:
            raise NotFound(_("No such collection, or not one you may see."))
        if not policy.may_step(actor, collection, step):
            raise ActionForbidden(str(policy.HAND_OVER_REFUSAL if step == "hand_over" else policy.TEAM_REFUSAL))
        if collection.state != spec.source:
            raise TransitionNotAllowed(
                _("The materials are %(state)s; that step is not possible now.")
                % {"state": collection.get_state_display().lower()}
            )
        now = timezone.now()
        collection.state = spec.target
        collection.updated_at = now
        collection.save(update_fields=["state", "updated_at"])
        CollectionStep.objects.create(
            collection=collection,
            step=spec.name,
            from_state=spec.source,
            to_state=spec.target,
            actor=actor,
            at=now,
            note=note,
        )
    return collection
