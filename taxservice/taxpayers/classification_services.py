"""Writes of classification and grading (分类分级): rule set versions, bulk recomputation
runs, and the grade of a newly registered taxpayer.

Locking protocol: every write that depends on which rule set is the newest holds the
newest ClassificationRuleSet row `FOR NO KEY UPDATE` (a new version, each chunk of a run),
so a run's chunk and a new version never interleave: a chunk either finishes with its
version or finds that a newer one exists and stops. `NO KEY` leaves the history rows'
foreign-key checks on that row free. On SQLite the transactions queue instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access, scheduling
from taxservice.errors import ConcurrentChange, InvalidInput, NotFound
from taxservice.org.models import Staff
from taxservice.taxpayers import sql
from taxservice.taxpayers.classification import (
    CATEGORY_RESULTS,
    GRADE_RESULTS,
    Compiled,
    Rule,
    RuleError,
    parse_json,
    parse_text,
)
from taxservice.taxpayers.models import (
    Category,
    ClassificationRuleSet,
    ClassificationRun,
    ServiceGrade,
    Taxpayer,
    TaxpayerGradeChange,
)

CHUNK = 50_000  # taxpayer ids per statement and per transaction (TAXSERVICE_CLASSIFY_CHUNK)
MAX_REASON = 500


def _chunk() -> int:
    return max(1, int(getattr(settings, "TAXSERVICE_CLASSIFY_CHUNK", CHUNK)))


def _newest_for_update() -> ClassificationRuleSet | None:
    return ClassificationRuleSet.objects.select_for_update(no_key=True).order_by("-version").first()


def _rules(value: object, *, field: str, results: frozenset[str], errors: dict[str, list[str]]) -> list[Rule]:
    try:
        if isinstance(value, str):
            return parse_text(value, results=results)
        return parse_json(value if value is not None else [], results=results)
    except RuleError as error:
        errors[field] = [str(error)]
        return []


def rule_set_save(
    *,
    actor: Staff,
    category_rules: str | list,
    default_category: str,
    grade_rules: str | list,
    default_grade: str,
    reason: str,
) -> tuple[ClassificationRuleSet, ClassificationRun]:
    """Save the rules as a new version (the newest is the active one) and start the bulk
    recomputation with it. Rules come as typed text (one per line) or as JSON rows.
    Raises InvalidInput naming every bad field (nothing is written then)."""
    access.require(access.is_admin, actor)
    errors: dict[str, list[str]] = {}
    category = _rules(category_rules, field="category_rules", results=CATEGORY_RESULTS, errors=errors)
    grade = _rules(grade_rules, field="grade_rules", results=GRADE_RESULTS, errors=errors)
    if default_category not in Category.values:
        errors["default_category"] = [_("Choose a category.")]
    if default_grade not in ServiceGrade.values:
        errors["default_grade"] = [_("Choose a service grade.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the rules change; the reason is kept with the version.")]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [_("At most %(count)d characters.") % {"count": MAX_REASON}]
    if errors:
        raise InvalidInput(_("The rules were not saved."), fields=errors)
    rows = {
        "category_rules": [rule.as_json() for rule in category],
        "default_category": default_category,
        "grade_rules": [rule.as_json() for rule in grade],
        "default_grade": default_grade,
    }
    try:
        with transaction.atomic():
            newest = _newest_for_update()
            if newest is not None and all(getattr(newest, name) == value for name, value in rows.items()):
                raise InvalidInput(
                    _("These are the rules of version %(version)d already: nothing to save.")
                    % {"version": newest.version},
                    code="nothing_to_change",
                )
            rule_set = ClassificationRuleSet.objects.create(
                version=(newest.version + 1) if newest else 1, reason=reason, created_by=actor, **rows
            )
            run = _run_create(rule_set=rule_set, actor=actor, cause=_("Version %(version)d: %(reason)s"), reason=reason)
    except IntegrityError:  # two first versions at once
        raise ConcurrentChange(_("Someone else saved a version at the same time; reload and try again.")) from None
    return rule_set, run


def rule_set_restore(*, actor: Staff, version: int, reason: str) -> tuple[ClassificationRuleSet, ClassificationRun]:
    """Use an older version's rules again: saved as a new version (history is never rewritten)."""
    access.require(access.is_admin, actor)
    old = ClassificationRuleSet.objects.filter(version=version).first()
    if old is None:
        raise NotFound(_("No rule set has version %(version)s.") % {"version": version})
    return rule_set_save(
        actor=actor,
        category_rules=old.category_rules,
        default_category=old.default_category,
        grade_rules=old.grade_rules,
        default_grade=old.default_grade,
        reason=reason,
    )


def _run_create(
    *, rule_set: ClassificationRuleSet, actor: Staff | None, cause: str, reason: str, background: bool = True
) -> ClassificationRun:
    text = (cause % {"version": rule_set.version, "reason": reason})[:MAX_REASON]
    run = ClassificationRun.objects.create(cause=text, rule_set=rule_set, requested_by=actor)
    if background:
        scheduling.start_job(scheduling.CLASSIFY_TAXPAYERS, run.pk)
    return run


def classification_run_start(*, actor: Staff | None, cause: str, background: bool = True) -> ClassificationRun:
    """Recompute every taxpayer with the newest rules (after taxpayers' data changed in bulk,
    or to grade taxpayers loaded before the rules existed). `actor` None is the system.
    The run starts as a job after the commit; with `background=False` nothing is started
    and the caller runs it (`classification_run`: the demo, the benchmark, a command)."""
    access.require(access.is_admin, actor)
    cause = (cause or "").strip()
    if not cause:
        raise InvalidInput(_("Say why."), fields={"cause": [_("Say why the taxpayers are recomputed.")]})
    if len(cause) > MAX_REASON:
        raise InvalidInput(
            _("Too long."), fields={"cause": [_("At most %(count)d characters.") % {"count": MAX_REASON}]}
        )
    with transaction.atomic():
        newest = _newest_for_update()
        if newest is None:
            raise InvalidInput(_("There are no classification rules yet."), code="no_rules")
        return _run_create(
            rule_set=newest,
            actor=actor,
            cause=_("Version %(version)d: %(reason)s"),
            reason=cause,
            background=background,
        )


def classification_run(
    *, run_id: int, on_chunk: Callable[[ClassificationRun], None] | None = None
) -> ClassificationRun:
    """Run one ClassificationRun: every taxpayer, by ascending id ranges of the chunk size,
    each range one set-based statement (sql.regrade_range) in its own transaction, with
    the run's progress updated in it. Idempotent: a taxpayer already right is not written
    and gets no history row, so a second run of the same version writes nothing. Stops as
    superseded when a newer version exists. `on_chunk` (the benchmark's progress bar) is
    called after each chunk's commit."""
    run = ClassificationRun.objects.select_related("rule_set").get(pk=run_id)
    if run.finished:
        return run
    compiled = Compiled.of(run.rule_set)
    bounds = Taxpayer.objects.aggregate(lo=Min("pk"), hi=Max("pk"), n=Count("pk"))
    now = timezone.now()
    ClassificationRun.objects.filter(pk=run.pk).update(
        state=ClassificationRun.State.RUNNING, total=bounds["n"], done=0, changed=0, started_at=now
    )
    size = _chunk()
    done = changed = 0
    lo, hi = bounds["lo"], bounds["hi"]
    try:
        while lo is not None and lo <= hi:
            top = lo + size - 1
            with transaction.atomic():
                newest = _newest_for_update()
                if newest is None or newest.pk != run.rule_set_id:
                    ClassificationRun.objects.filter(pk=run.pk).update(
                        state=ClassificationRun.State.SUPERSEDED, finished_at=timezone.now()
                    )
                    run.refresh_from_db()
                    return run
                changed += sql.regrade_range(
                    compiled, lo=lo, hi=top, rule_set_id=run.rule_set_id, run_id=run.pk, at=timezone.now()
                )
                done += Taxpayer.objects.filter(pk__gte=lo, pk__lte=top).count()
                ClassificationRun.objects.filter(pk=run.pk).update(done=done, changed=changed)
            lo = top + 1
            if lo > hi:  # taxpayers registered meanwhile were graded by the service; look once more
                hi = Taxpayer.objects.aggregate(hi=Max("pk"))["hi"] or hi
            if on_chunk is not None:
                on_chunk(ClassificationRun(pk=run.pk, total=bounds["n"], done=done, changed=changed))
    except Exception as error:
        ClassificationRun.objects.filter(pk=run.pk).update(
            state=ClassificationRun.State.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ClassificationRun.objects.filter(pk=run.pk).update(
        state=ClassificationRun.State.DONE, total=max(done, bounds["n"]), done=done, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def taxpayer_grade_new(*, taxpayer: Taxpayer) -> None:
    """Give a just-created taxpayer the newest rules' category and service grade, with its
    first history row. Call inside the transaction that creates it. No rules: left empty."""
    rule_set = ClassificationRuleSet.objects.order_by("-version").first()
    if rule_set is None:
        return
    category, grade = Compiled.of(rule_set).evaluate(
        {name: getattr(taxpayer, name) for name in ("kind", "industry", "scale", "risk_level", "grade")}
    )
    if (category, grade) == (taxpayer.category, taxpayer.service_grade):
        return
    TaxpayerGradeChange.objects.create(
        taxpayer=taxpayer,
        before_category=taxpayer.category,
        after_category=category,
        before_grade=taxpayer.service_grade,
        after_grade=grade,
        rule_set=rule_set,
    )
    taxpayer.category, taxpayer.service_grade = category, grade
    Taxpayer.objects.filter(pk=taxpayer.pk).update(category=category, service_grade=grade)
