"""就近办 pages: door-to-door visits (/visits/), materials collected at service points
(/collections/) and the service points (/service-points/). They parse, call the services of
`taxservice.workflow.nearby` and render; a refusal shows on the form, with what was typed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice.errors import InvalidInput, ServiceError
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.web.queries import paginate
from taxservice.workflow.nearby import policy, selectors, services
from taxservice.workflow.nearby.models import Collection, Visit


class VisitScheduleForm(ServiceErrorsMixin, forms.Form):
    taxpayer = forms.CharField(
        label=gettext_lazy("Taxpayer's credit code"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scheduled_for = forms.DateField(
        label=gettext_lazy("Day of the visit"), widget=forms.DateInput(attrs={"type": "date"})
    )
    staff = forms.TypedChoiceField(label=gettext_lazy("Who goes"), coerce=int)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200)
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200)

    def __init__(self, *args, people: list[Staff], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(member.pk, member.name) for member in people]


class CollectionOpenForm(ServiceErrorsMixin, forms.Form):
    service_point = forms.ChoiceField(label=gettext_lazy("Service point"))
    case = forms.IntegerField(label=gettext_lazy("Case number"), min_value=1)
    task = forms.IntegerField(label=gettext_lazy("Task number (optional)"), min_value=1, required=False)
    team = forms.CharField(label=gettext_lazy("Handling team code (optional)"), max_length=48, required=False)
    materials = forms.CharField(label=gettext_lazy("Materials"), widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)

    def __init__(self, *args, points: list[ServicePoint], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_point"].choices = [("", "—")] + [(p.code, p.name) for p in points]


STEP_LABELS = {
    "hand_over": gettext_lazy("Hand over"),
    "receive": gettext_lazy("Mark received"),
    "return": gettext_lazy("Mark returned"),
}
NEXT_STEP = {step.source: step.name for step in services.STEPS.values()}  # state -> the step out of it


@staff_page(policy.can_use_visits)
def visits(request: HttpRequest, staff: Staff) -> HttpResponse:
    """My visits and my grids' visits; schedule one; record a visit's outcome or cancel it."""
    people = selectors.visit_staff_choices(staff=staff)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    schedule = VisitScheduleForm(
        request.POST if action == "schedule" else None, people=people, initial={"staff": staff.pk}
    )
    row_error: dict = {}
    if action == "schedule" and schedule.is_valid():
        data = schedule.cleaned_data
        try:
            visit = services.visit_schedule(
                actor=staff,
                taxpayer=data["taxpayer"],
                scheduled_for=data["scheduled_for"],
                address=data["address"],
                purpose=data["purpose"],
                staff_id=data["staff"],
            )
        except ServiceError as error:
            schedule.add_service_error(error)
        else:
            messages.success(request, _("Visit #%(visit)s scheduled.") % {"visit": visit.pk})
            return redirect(request.get_full_path())
    elif action in ("record", "cancel"):
        visit_id = request.POST.get("visit", "")
        text = request.POST.get("text", "")
        try:
            if not visit_id.isdigit():
                raise InvalidInput(_("No such visit."))
            if action == "record":
                services.visit_record(actor=staff, visit_id=int(visit_id), outcome=text)
            else:
                services.visit_cancel(actor=staff, visit_id=int(visit_id), reason=text)
        except ServiceError as error:
            messages_ = [error.detail, *(m for ms in error.fields.values() for m in ms)]
            row_error = {"visit": int(visit_id) if visit_id.isdigit() else None, "action": action, "text": text}
            row_error["message"] = " ".join(str(m) for m in messages_)
        else:
            done = _("Outcome recorded.") if action == "record" else _("Visit cancelled.")
            messages.success(request, done)
            return redirect(request.get_full_path())
    state = request.GET.get("state", "")
    state = state if state in Visit.State.values else ""
    mine = request.GET.get("mine") == "1"
    page = paginate(request, selectors.visit_list_for_staff(staff=staff, state=state, mine=mine))
    for visit in page.object_list:
        visit.can_close = visit.state == Visit.State.SCHEDULED and policy.may_record_visit(staff, visit)
    context = {
        "page": page,
        "schedule": schedule,
        "state": state,
        "mine": mine,
        "states": Visit.State.choices,
        "row_error": row_error,
    }
    return render(request, "web/nearby/visits.html", context, status=400 if action else 200)


@staff_page(policy.can_use_collections)
def collections(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Materials collected at service points on their way to the handling teams, with their steps."""
    points = list(ServicePoint.objects.filter(active=True).order_by("code"))
    action = request.POST.get("action", "") if request.method == "POST" else ""
    may_collect = policy.may_collect(staff)
    opener = CollectionOpenForm(request.POST if action == "open" else None, points=points)
    row_error: dict = {}
    if action == "open" and opener.is_valid():
        data = opener.cleaned_data
        try:
            collection = services.collection_open(
                actor=staff,
                service_point=data["service_point"],
                case_id=data["case"],
                task_id=data["task"],
                team=data["team"],
                materials=data["materials"],
                note=data["note"],
            )
        except ServiceError as error:
            opener.add_service_error(error)
        else:
            messages.success(request, _("Materials #%(id)s recorded.") % {"id": collection.pk})
            return redirect(request.get_full_path())
    elif action == "step":
        collection_id = request.POST.get("collection", "")
        step, note = request.POST.get("step", ""), request.POST.get("note", "")
        try:
            if not collection_id.isdigit():
                raise InvalidInput(_("No such collection."))
            services.collection_step(actor=staff, collection_id=int(collection_id), step=step, note=note)
        except ServiceError as error:
            texts = [error.detail, *(m for ms in error.fields.values() for m in ms)]
            row_error = {
                "collection": int(collection_id) if collection_id.isdigit() else None,
                "note": note,
                "message": " ".join(str(t) for t in texts),
            }
        else:
            messages.success(request, _("%(step)s: done.") % {"step": STEP_LABELS.get(step, step)})
            return redirect(request.get_full_path())
    state = request.GET.get("state", "")
    state = state if state in Collection.State.values else ""
    page = paginate(request, selectors.collection_list_for_staff(staff=staff, state=state))
    selectors.collection_attach_steps(page.object_list)
    for collection in page.object_list:
        step = NEXT_STEP.get(collection.state)
        collection.next_step = step if step and policy.may_step(staff, collection, step) else ""
        collection.next_label = STEP_LABELS.get(step or "", "")
    context = {
        "page": page,
        "opener": opener if may_collect else None,
        "state": state,
        "states": Collection.State.choices,
        "row_error": row_error,
    }
    return render(request, "web/nearby/collections.html", context, status=400 if action else 200)


@staff_page()
def service_points(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Every 就近办 service point: partner, grids served, hours, contact, active or not."""
    page = paginate(request, selectors.service_point_list())
    return render(request, "web/nearby/service_points.html", {"page": page})
