"""The closing loop's pages: the rating and return visits on the case page (a panel the
case page loads with htmx), the quality inspectors' weekly samples with a scoring form per
task, and the rectification list. Every write is a service of
`taxservice.workflow.quality`, the same the API calls."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.queries import paginate
from taxservice.workflow.cases.models import TaskState
from taxservice.workflow.quality import selectors, services
from taxservice.workflow.quality.checklist import CHECKS
from taxservice.workflow.quality.models import RatingChannel, VisitChannel


def _refusal(error: ServiceError) -> str:
    fields = "; ".join(message for messages_ in error.fields.values() for message in messages_)
    return f"{error.detail} {fields}".strip()


# --- the case page's panel: rating and return visits ---------------------------------------------


def _visible_case(staff: Staff, case_id: int):
    case = selectors.case_for_staff(staff=staff, case_id=case_id)
    if case is None:
        raise Http404(_("No such case, or it is not visible to you."))
    return case


def _case_url(case_id: int) -> str:
    return reverse("case_detail", args=[case_id]) + "#quality"


@staff_page()
def case_quality(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    """The rating and return-visit panel of a case (loaded into the case page)."""
    case = _visible_case(staff, case_id)
    rating = selectors.case_rating(case=case)
    context = {
        "case": case,
        "rating": rating,
        "rectification": getattr(rating, "rectification", None) if rating is not None else None,
        "ratable": rating is None and selectors.case_ratable(case=case),
        "visits": list(selectors.return_visits(case=case)[:20]),
        "visit_channels": VisitChannel.choices,
        "scores": [5, 4, 3, 2, 1],
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "web/quality/case_panel.html", context)


@require_POST
@staff_page(access.can_record_rating)
def case_rate(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    _visible_case(staff, case_id)
    try:
        rating = services.case_rate(
            actor=staff,
            case_id=case_id,
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", ""),
            channel=RatingChannel.COUNTER,
        )
    except ServiceError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("Rating %(score)s recorded.") % {"score": rating.score})
    return redirect(_case_url(case_id))


@require_POST
@staff_page(access.can_record_rating)
def case_return_visit(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    _visible_case(staff, case_id)
    visited_at = None
    raw = request.POST.get("visited_at", "").strip()
    if raw:
        try:
            visited_at = timezone.make_aware(dt.datetime.fromisoformat(raw))
        except ValueError:
            messages.error(request, _("The time of the visit is not a date and time."))
            return redirect(_case_url(case_id))
    try:
        services.return_visit_record(
            actor=staff,
            case_id=case_id,
            visited_at=visited_at,
            channel=request.POST.get("channel", ""),
            said=request.POST.get("said", ""),
            satisfied=request.POST.get("satisfied") == "yes",
        )
    except ServiceError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("Return visit recorded."))
    return redirect(_case_url(case_id))


# --- the inspectors' pages ----------------------------------------------------------------------


@staff_page(access.can_inspect_quality)
def inspections(request: HttpRequest, staff: Staff) -> HttpResponse:
    page = paginate(request, selectors.inspection_list())
    context = {
        "page": page,
        "last_week": services.previous_week_start(),
        "default_size": services.DEFAULT_SAMPLE_SIZE,
        "max_size": services.MAX_SAMPLE_SIZE,
    }
    return render(request, "web/quality/inspections.html", context)


@require_POST
@staff_page(access.can_inspect_quality)
def inspection_draw(request: HttpRequest, staff: Staff) -> HttpResponse:
    try:
        week = dt.date.fromisoformat(request.POST["week_start"]) if request.POST.get("week_start") else None
        size = int(request.POST["size"]) if request.POST.get("size") else None
        seed = int(request.POST["seed"]) if request.POST.get("seed") else None
    except ValueError:
        messages.error(request, _("The week, the size and the seed must be a date and whole numbers."))
        return redirect("quality_inspections")
    try:
        inspection = services.inspection_draw(actor=staff, week_start=week, size=size, seed=seed)
    except ServiceError as error:
        messages.error(request, _refusal(error))
        return redirect("quality_inspections")
    messages.success(request, _("The sample of week %(week)s is drawn.") % {"week": inspection.week_start})
    return redirect("quality_inspection", inspection_id=inspection.pk)


@staff_page(access.can_inspect_quality)
def inspection_detail(request: HttpRequest, staff: Staff, inspection_id: int) -> HttpResponse:
    inspection = selectors.inspection_get(inspection_id=inspection_id)
    if inspection is None:
        raise Http404(_("No such inspection."))
    return render(request, "web/quality/inspection_detail.html", {"inspection": inspection, "checks": CHECKS})


@require_POST
@staff_page(access.can_inspect_quality)
def inspection_score(request: HttpRequest, staff: Staff, inspection_id: int, task_id: int) -> HttpResponse:
    checks = {check.code: request.POST.get(f"check_{check.code}") == "pass" for check in CHECKS}
    try:
        result = services.inspection_result_record(
            actor=staff,
            inspection_id=inspection_id,
            task_id=task_id,
            checks=checks,
            findings=request.POST.get("findings", ""),
        )
    except ServiceError as error:
        messages.error(request, _("T%(task)s: %(detail)s") % {"task": task_id, "detail": _refusal(error)})
    else:
        if result.passed:
            messages.success(request, _("T%(task)s passed.") % {"task": task_id})
        else:
            messages.warning(request, _("T%(task)s failed: a rectification is opened.") % {"task": task_id})
    return redirect(reverse("quality_inspection", args=[inspection_id]) + f"#sample-{task_id}")


STATE_FILTERS = [("", gettext_lazy("All")), ("open", gettext_lazy("Open"))] + [
    (state, label) for state, label in TaskState.choices if state in (TaskState.DONE, TaskState.CLOSED)
]


@staff_page(access.can_see_rectifications)
def rectifications(request: HttpRequest, staff: Staff) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in {value for value, _label in STATE_FILTERS}:
        state = ""
    page = paginate(request, selectors.rectification_list_for_staff(staff=staff, state=state))
    return render(request, "web/quality/rectifications.html", {"page": page, "state": state, "states": STATE_FILTERS})
