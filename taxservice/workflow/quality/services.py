"""Writes of the closing loop: feedback on a case, the taxpayer's rating, return visits,
the weekly inspection sample and its results, and the rectifications they open.

Each write is one transaction with an audit row (`QualityLog`, or the task's own log for
feedback and the rectification task). A rating of 1–2 and a failed inspection result each
open exactly one rectification in the same transaction: the rating is unique per case
and the result unique per sampled task, and the rectification is unique per rating and
per result in the database, so a retry or a race cannot open a second.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.errors import ConcurrentChange, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Staff, Team
from taxservice.workflow.cases.models import Case, Task, TaskState
from taxservice.workflow.cases.selectors import case_list_for_staff
from taxservice.workflow.cases.services import task_transition
from taxservice.workflow.quality import selectors
from taxservice.workflow.quality.checklist import CHECK_CODES
from taxservice.workflow.quality.models import (
    COMMENT_MAX_CHARS,
    RECTIFICATION_ITEM,
    TEXT_MAX_CHARS,
    CaseRating,
    Grade,
    Inspection,
    InspectionResult,
    QualityLog,
    RatingChannel,
    Rectification,
    ReturnVisit,
    SampledTask,
    VisitChannel,
    grade_of,
)
from taxservice.workflow.routing import engine
from taxservice.workflow.routing.services import task_intake

DEFAULT_SAMPLE_SIZE = 10
MAX_SAMPLE_SIZE = 100
MAX_SEED = 2**63 - 1


def _visible_case(actor: Staff, case_id: int, *, lock: bool = False) -> Case:
    """The case if the actor may see it (another branch's case is not found)."""
    if not case_list_for_staff(staff=actor).filter(pk=case_id).exists():
        raise NotFound(_("No case %(id)s.") % {"id": case_id})
    qs = Case.objects.select_related("taxpayer", "accepted_by")
    if lock:
        qs = qs.select_for_update(of=("self",), no_key=True)
    return qs.get(pk=case_id)


# --- feedback ------------------------------------------------------------------------------


def case_feedback_give(
    *, actor: Staff, case_id: int, result: str, channel: str = "", task_ids: list[int] | None = None
) -> list[Task]:
    """Give the taxpayer feedback on a case's finished tasks: the named ones, or every task
    that is done. Each goes through the `give_feedback` transition (its own record; the
    back office's result is kept). All or nothing."""
    with transaction.atomic():
        case = _visible_case(actor, case_id)
        done = list(case.tasks.filter(state=TaskState.DONE).order_by("id").values_list("pk", flat=True))
        if task_ids:
            wanted = sorted(set(task_ids))
            foreign = [pk for pk in wanted if not case.tasks.filter(pk=pk).exists()]
            if foreign:
                raise NotFound(_("No task %(ids)s in case %(case)s.") % {"ids": foreign, "case": case.pk})
            not_done = [pk for pk in wanted if pk not in done]
            if not_done:
                raise TransitionNotAllowed(
                    _("Tasks %(ids)s are not waiting for feedback.") % {"ids": ", ".join(map(str, not_done))},
                    code="not_done",
                )
            done = wanted
        if not done:
            raise TransitionNotAllowed(_("No task of this case is waiting for feedback."), code="nothing_to_feed_back")
        return [
            task_transition(
                task_id=pk,
                actor=actor,
                name="give_feedback",
                result=result,
                channel=channel,
                expected_state=TaskState.DONE,
            )
            for pk in done
        ]


# --- rating and return visits -------------------------------------------------------------


def case_rate(*, actor: Staff, case_id: int, score: object, comment: str = "", channel: str) -> CaseRating:
    """Record the taxpayer's rating of a case (1–5). Once per case: a second answers 409
    `already_rated`. Only once a task of the case has been given feedback or closed. A
    rating of 1–2 (差评) opens one rectification for the handler of the case's main task."""
    access.require(access.can_record_rating, actor)
    errors: dict[str, list[str]] = {}
    value = _int_or_none(score)
    if value is None or not 1 <= value <= 5:
        errors["score"] = [_("A whole number from 1 to 5.")]
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX_CHARS:
        errors["comment"] = [_("At most %(n)s characters.") % {"n": COMMENT_MAX_CHARS}]
    if channel not in RatingChannel.values:
        errors["channel"] = [_("Unknown channel %(channel)s.") % {"channel": channel}]
    if errors:
        raise InvalidInput(_("The rating was not recorded."), code="invalid_rating", fields=errors)
    assert value is not None
    with transaction.atomic():
        case = _visible_case(actor, case_id, lock=True)
        if CaseRating.objects.filter(case=case).exists():
            raise ConcurrentChange(_("This case has been rated already."), code="already_rated")
        if not case.tasks.filter(state=TaskState.CLOSED).exists():
            raise TransitionNotAllowed(
                _("A case is rated once the taxpayer has had feedback on it."), code="not_ready_for_rating"
            )
        now = timezone.now()
        try:
            with transaction.atomic():
                rating = CaseRating.objects.create(
                    case=case, score=value, comment=text, channel=channel, recorded_by=actor, at=now
                )
        except IntegrityError:
            raise ConcurrentChange(_("This case has been rated already."), code="already_rated") from None
        QualityLog.objects.create(
            action="rate", actor=actor, at=now, case=case, details={"score": value, "rating": rating.pk}
        )
        if rating.grade == Grade.BAD:
            rectification_open_for_rating(rating_id=rating.pk)
    return rating


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def return_visit_record(
    *, actor: Staff, case_id: int, channel: str, said: str, satisfied: bool, visited_at: dt.datetime | None = None
) -> ReturnVisit:
    """Record a return visit (回访): when, how, what the taxpayer said, satisfied or not."""
    access.require(access.can_record_rating, actor)
    now = timezone.now()
    when = visited_at or now
    text = (said or "").strip()
    errors: dict[str, list[str]] = {}
    if channel not in VisitChannel.values:
        errors["channel"] = [_("Unknown channel %(channel)s.") % {"channel": channel}]
    if not text:
        errors["said"] = [_("Write down what the taxpayer said.")]
    elif len(text) > TEXT_MAX_CHARS:
        errors["said"] = [_("At most %(n)s characters.") % {"n": TEXT_MAX_CHARS}]
    if when > now + dt.timedelta(minutes=5):
        errors["visited_at"] = [_("A return visit cannot be in the future.")]
    if errors:
        raise InvalidInput(_("The return visit was not recorded."), code="invalid_visit", fields=errors)
    with transaction.atomic():
        case = _visible_case(actor, case_id)
        if when < case.created_at:
            raise InvalidInput(
                _("The visit cannot be before the case was opened."),
                code="invalid_visit",
                fields={"visited_at": [_("Before the case.")]},
            )
        visit = ReturnVisit.objects.create(
            case=case,
            visited_at=when,
            visited_by=actor,
            channel=channel,
            said=text,
            satisfied=satisfied,
            recorded_at=now,
        )
        QualityLog.objects.create(
            action="return_visit", actor=actor, at=now, case=case, details={"visit": visit.pk, "satisfied": satisfied}
        )
    return visit


# --- the weekly inspection sample ------------------------------------------------------------


def previous_week_start(today: dt.date | None = None) -> dt.date:
    """The Monday of the week before `today`'s (local time)."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=today.weekday() + 7)


def draw_sample(candidate_ids: list[int], *, seed: int, size: int) -> list[int]:
    """The same seed on the same candidates draws the same sample: sorted ids, Random(seed)."""
    ordered = sorted(candidate_ids)
    return random.Random(seed).sample(ordered, min(size, len(ordered)))


def inspection_draw(
    *, actor: Staff | None, week_start: dt.date | None = None, size: int | None = None, seed: int | None = None
) -> Inspection:
    """Draw the sample of tasks closed in the week starting `week_start` (a Monday; by
    default last week). One inspection per week: a second draw for the week answers 409
    `already_drawn`, except for the schedule (`actor` None), which gets the existing one
    back so that a retried beat run is harmless."""
    access.require(access.can_inspect_quality, actor)
    week = week_start or previous_week_start()
    errors: dict[str, list[str]] = {}
    if week.weekday() != 0:
        errors["week_start"] = [_("A week starts on a Monday.")]
    elif week + dt.timedelta(days=7) > timezone.localdate():
        errors["week_start"] = [_("Only a week that is over can be sampled.")]
    wanted = DEFAULT_SAMPLE_SIZE if size is None else size
    if not 1 <= wanted <= MAX_SAMPLE_SIZE:
        errors["size"] = [_("From 1 to %(n)s.") % {"n": MAX_SAMPLE_SIZE}]
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = [_("A whole number from 0 to 2^63-1.")]
    if errors:
        raise InvalidInput(_("The sample was not drawn."), code="invalid_draw", fields=errors)
    chosen_seed = secrets.randbelow(2**31) if seed is None else seed
    with transaction.atomic():
        existing = Inspection.objects.filter(week_start=week).first()
        if existing is not None:
            if actor is None:
                return existing
            raise ConcurrentChange(_("This week's sample has been drawn already."), code="already_drawn")
        candidates = selectors.closed_in_week(week)
        sample = draw_sample(candidates, seed=chosen_seed, size=wanted)
        now = timezone.now()
        try:
            with transaction.atomic():
                inspection = Inspection.objects.create(
                    week_start=week,
                    sample_size=wanted,
                    seed=chosen_seed,
                    candidates=len(candidates),
                    drawn_by=actor,
                    drawn_at=now,
                    state=Inspection.State.OPEN if sample else Inspection.State.DONE,
                )
        except IntegrityError:
            if actor is None:
                return Inspection.objects.get(week_start=week)
            raise ConcurrentChange(_("This week's sample has been drawn already."), code="already_drawn") from None
        SampledTask.objects.bulk_create(
            SampledTask(inspection=inspection, task_id=task_id, position=position)
            for position, task_id in enumerate(sample, start=1)
        )
        QualityLog.objects.create(
            action="draw",
            actor=actor,
            at=now,
            inspection=inspection,
            details={"seed": chosen_seed, "size": wanted, "candidates": len(candidates), "sample": sample},
        )
    return inspection


def inspection_result_record(
    *, actor: Staff, inspection_id: int, task_id: int, checks: Mapping[str, object], findings: str = ""
) -> InspectionResult:
    """Score one sampled task against the checklist. The task passes when every check
    passes; a failure needs findings and opens one rectification for the task's last
    handler. Once per sampled task: a second answers 409 `already_scored`."""
    access.require(access.can_inspect_quality, actor)
    text = (findings or "").strip()
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(checks) - set(CHECK_CODES))
    missing = [code for code in CHECK_CODES if code not in checks]
    if unknown or missing or not all(isinstance(checks[code], bool) for code in CHECK_CODES if code in checks):
        errors["checks"] = [_("Answer every check with true or false: %(codes)s.") % {"codes": ", ".join(CHECK_CODES)}]
    passed = not errors and all(bool(checks[code]) for code in CHECK_CODES)
    if not errors and not passed and not text:
        errors["findings"] = [_("Say what was wrong.")]
    if len(text) > TEXT_MAX_CHARS:
        errors["findings"] = [_("At most %(n)s characters.") % {"n": TEXT_MAX_CHARS}]
    if errors:
        code = "findings_required" if "findings" in errors and "checks" not in errors else "invalid_result"
        raise InvalidInput(_("The result was not recorded."), code=code, fields=errors)
    with transaction.atomic():
        inspection = (
            Inspection.objects.select_for_update(no_key=True).filter(pk=inspection_id).first()
            if str(inspection_id).isdigit()
            else None
        )
        if inspection is None:
            raise NotFound(_("No inspection %(id)s.") % {"id": inspection_id})
        sampled = SampledTask.objects.filter(inspection=inspection, task_id=task_id).first()
        if sampled is None:
            raise NotFound(_("Task %(task)s is not in this sample.") % {"task": task_id}, code="not_in_sample")
        if InspectionResult.objects.filter(sampled=sampled).exists():
            raise ConcurrentChange(_("This task has been scored already."), code="already_scored")
        now = timezone.now()
        result = InspectionResult.objects.create(
            sampled=sampled,
            checks={code: bool(checks[code]) for code in CHECK_CODES},
            passed=passed,
            findings=text,
            inspector=actor,
            at=now,
        )
        if not SampledTask.objects.filter(inspection=inspection, result__isnull=True).exists():
            inspection.state = Inspection.State.DONE
            inspection.save(update_fields=["state"])
        QualityLog.objects.create(
            action="score",
            actor=actor,
            at=now,
            inspection=inspection,
            details={"task": task_id, "passed": passed, "result": result.pk},
        )
        if not passed:
            rectification_open_for_result(result_id=result.pk)
    return result


# --- rectification --------------------------------------------------------------------------


def rectification_open_for_rating(*, rating_id: int) -> Rectification | None:
    """The rectification of a bad rating (1–2), opened once: a retry returns the same one.
    None for a rating that is not bad. Responsible: the handler of the case's main task."""
    with transaction.atomic():
        rating = CaseRating.objects.select_related("case__taxpayer", "case__accepted_by").get(pk=rating_id)
        if grade_of(rating.score) != Grade.BAD:
            return None
        existing = Rectification.objects.filter(rating=rating).first()
        if existing is not None:
            return existing
        concerning, responsible = selectors.main_task_and_handler(rating.case)
        cause = _("Rated %(score)s of 5 (差评) on case #%(case)s.") % {"score": rating.score, "case": rating.case_id}
        if rating.comment:
            cause += " " + rating.comment
        return _rectification_open(
            concerning=concerning,
            responsible=responsible,
            cause=cause,
            rating=rating,
            source_label=_("rating of case #%(case)s") % {"case": rating.case_id},
            details={"rating": rating.pk, "case": rating.case_id},
        )


def rectification_open_for_result(*, result_id: int) -> Rectification | None:
    """The rectification of a failed inspection result, opened once (a retry returns it).
    Responsible: the last handler of the sampled task."""
    with transaction.atomic():
        result = InspectionResult.objects.select_related("sampled__task__taxpayer", "sampled__inspection").get(
            pk=result_id
        )
        if result.passed:
            return None
        existing = Rectification.objects.filter(inspection_result=result).first()
        if existing is not None:
            return existing
        task = result.sampled.task
        responsible = selectors.last_handler(task) or (task.case.accepted_by if task.case_id else None)
        if responsible is None:
            raise InvalidInput(
                _("Nobody handled task %(task)s: name the responsible person.") % {"task": task.pk},
                code="no_responsible",
            )
        failed = [code for code, ok in result.checks.items() if not ok]
        cause = _("Quality inspection of week %(week)s failed T%(task)s (%(checks)s): %(findings)s") % {
            "week": result.sampled.inspection.week_start.isoformat(),
            "task": task.pk,
            "checks": ", ".join(failed),
            "findings": result.findings,
        }
        return _rectification_open(
            concerning=task,
            responsible=responsible,
            cause=cause,
            inspection_result=result,
            source_label=_("quality inspection of week %(week)s")
            % {"week": result.sampled.inspection.week_start.isoformat()},
            details={"inspection_result": result.pk, "inspection": result.sampled.inspection_id},
        )


def _rectification_open(
    *,
    concerning: Task,
    responsible: Staff,
    cause: str,
    source_label: str,
    details: dict,
    rating: CaseRating | None = None,
    inspection_result: InspectionResult | None = None,
) -> Rectification:
    """Open the rectification task through the hub's own intake (never merged into another
    rectification of the taxpayer), place it in the responsible person's team and assign
    it to them; its log names what opened it. Call inside a transaction."""
    reason = _("Rectification opened by the %(source)s.") % {"source": source_label}
    task, _merged = task_intake(
        actor=None,
        source=Task.Source.BUSINESS,
        taxpayer=concerning.taxpayer.credit_code,
        item=RECTIFICATION_ITEM,
        notes=cause[:TEXT_MAX_CHARS],
        merge=False,
    )
    log_details = {**details, "rectification_of": "rating" if rating is not None else "inspection"}
    # Someone who works tasks gets it in their team, assigned to them; anyone else (a clerk
    # who handled it on the spot) is recorded as responsible, and the task waits at the
    # coordination post for a coordinator to place it.
    works_tasks = responsible.has_role(*access.WORKERS)
    team = _team_for(responsible, concerning) if works_tasks else engine.coordination_post()
    if team is not None and task.team != team:
        task = task_transition(
            task_id=task.pk, actor=None, name="reroute", team_code=team.code, reason=reason, details=log_details
        )
    if task.state == TaskState.QUEUED and works_tasks and responsible.on_duty:
        # Off duty, the task waits in the team's queue for the chief or the robot.
        try:
            with transaction.atomic():
                task = task_transition(
                    task_id=task.pk,
                    actor=None,
                    name="assign",
                    assignee_id=responsible.pk,
                    reason=reason,
                    details=log_details,
                )
        except InvalidInput:
            task.refresh_from_db()  # they cannot hold it where it is: it waits in the queue
    now = timezone.now()
    try:
        with transaction.atomic():
            rectification = Rectification.objects.create(
                rating=rating,
                inspection_result=inspection_result,
                concerning=concerning,
                task=task,
                responsible=responsible,
                cause=cause[:TEXT_MAX_CHARS],
                opened_at=now,
            )
    except IntegrityError:
        raise ConcurrentChange(_("This rectification is open already."), code="already_open") from None
    QualityLog.objects.create(
        action="rectification_open",
        actor=None,
        at=now,
        case=rating.case if rating is not None else None,
        inspection=inspection_result.sampled.inspection if inspection_result is not None else None,
        details={**log_details, "rectification": rectification.pk, "task": task.pk, "responsible": responsible.pk},
    )
    return rectification


def _team_for(responsible: Staff, concerning: Task) -> Team | None:
    """The team the rectification task goes to: the task concerned's team when the
    responsible person is in it, else their first team (by code), else none."""
    teams = list(responsible.teams.order_by("code"))
    for team in teams:
        if team.pk == concerning.team_id:
            return team
    return teams[0] if teams else None
