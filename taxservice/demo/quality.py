"""The demo's closing loop: taxpayers' ratings of finished cases (mostly good, a few bad),
return visits, one week's quality-inspection sample with a few results, and the
rectification tasks the bad ratings and the failed result open — all through the services
(docs/quality-loop.md).

`build_quality` runs after the cases; `delete_demo_quality` before the demo's tasks and
cases go (its rows point at them).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import Q

from taxservice import access
from taxservice.audit import AppendOnly
from taxservice.org.models import Role, Staff
from taxservice.workflow.cases.models import Case, TaskState
from taxservice.workflow.quality import selectors, services
from taxservice.workflow.quality.checklist import CHECK_CODES
from taxservice.workflow.quality.models import (
    CaseRating,
    Inspection,
    InspectionResult,
    QualityLog,
    RatingChannel,
    Rectification,
    ReturnVisit,
    SampledTask,
    VisitChannel,
)

# Mostly good, as in a real hall; the 1s and 2s open rectifications.
SCORES = (5, 5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1)
COMMENTS = {
    5: ("办理很快，服务热情", "一次办好，非常满意", ""),
    4: ("整体满意", "流程清楚", ""),
    3: ("等待时间有点长", "基本满意"),
    2: ("等了太久才有结果", "材料要求前后不一致"),
    1: ("反复跑了几次还没办好", "答复不清楚"),
}
SAID = {
    True: ("对办理结果满意", "问题已解决，感谢", "整改后答复清楚了"),
    False: ("仍然觉得等待时间太长", "希望下次一次性告知所需材料"),
}
RATED_SHARE = 0.35
SAMPLE_SIZE = 8
SAMPLE_SEED = 20240601


def build_quality(rng: random.Random, case_ids: list[int]) -> None:
    """Ratings and return visits on finished cases; then the last week with closed work gets
    its inspection sample, a few tasks scored (one failed)."""
    cases = list(
        Case.objects.filter(pk__in=case_ids, tasks__state=TaskState.CLOSED)
        .select_related("accepted_by__home_branch")
        .distinct()
        .order_by("pk")
    )
    for case in cases:
        recorder = case.accepted_by
        if not access.can_record_rating(recorder) or rng.random() > RATED_SHARE:
            continue
        score = rng.choice(SCORES)
        channel = RatingChannel.COUNTER if rng.random() < 0.7 else RatingChannel.API
        services.case_rate(
            actor=recorder, case_id=case.pk, score=score, comment=rng.choice(COMMENTS[score]), channel=channel
        )
        if score <= 3 or rng.random() < 0.2:
            satisfied = score >= 3 or rng.random() < 0.5
            services.return_visit_record(
                actor=recorder,
                case_id=case.pk,
                channel=rng.choice(VisitChannel.values),
                said=rng.choice(SAID[satisfied]),
                satisfied=satisfied,
            )
    _inspection(rng)


def _inspection(rng: random.Random) -> None:
    inspector = Staff.objects.filter(role_rows__role=Role.QUALITY_INSPECTOR).order_by("pk").first()
    week = _last_week_with_closed_work()
    if inspector is None or week is None:
        return
    inspection = services.inspection_draw(actor=inspector, week_start=week, size=SAMPLE_SIZE, seed=SAMPLE_SEED)
    sampled = list(inspection.sample.order_by("position").values_list("task_id", flat=True))
    for position, task_id in enumerate(sampled[: max(0, len(sampled) - 3)]):
        failing = position == 1
        checks = dict.fromkeys(CHECK_CODES, True)
        if failing:
            checks[rng.choice(CHECK_CODES)] = False
        services.inspection_result_record(
            actor=inspector,
            inspection_id=inspection.pk,
            task_id=task_id,
            checks=checks,
            findings="办理结果记录过简，未写明依据" if failing else "",
        )


def _last_week_with_closed_work() -> dt.date | None:
    """Last week, or the latest earlier week in which tasks were closed (the demo's
    histories lie in the past)."""
    week = services.previous_week_start()
    for _ in range(12):
        if selectors.closed_in_week(week):
            return week
        week -= dt.timedelta(days=7)
    return None


def delete_demo_quality(*, task_ids: set[int], case_ids: set[int]) -> None:
    """Before the demo's tasks and cases go: its ratings, visits, samples and rectifications."""
    rectifications = Rectification.objects.filter(
        Q(task_id__in=task_ids) | Q(concerning_id__in=task_ids) | Q(rating__case_id__in=case_ids)
    )
    task_ids.update(rectifications.values_list("task_id", flat=True))
    rectifications.delete()
    inspections = Inspection.objects.filter(sample__task_id__in=task_ids).distinct()
    inspection_ids = list(inspections.values_list("pk", flat=True))
    # The sanctioned reset (as the tables' owner): whole demo histories go with the demo.
    AppendOnly.purge(QualityLog.objects.filter(Q(case_id__in=case_ids) | Q(inspection_id__in=inspection_ids)))
    AppendOnly.purge(InspectionResult.objects.filter(sampled__inspection_id__in=inspection_ids))
    AppendOnly.purge(SampledTask.objects.filter(inspection_id__in=inspection_ids))
    Inspection.objects.filter(pk__in=inspection_ids).delete()
    AppendOnly.purge(ReturnVisit.objects.filter(case_id__in=case_ids))
    AppendOnly.purge(CaseRating.objects.filter(case_id__in=case_ids))
