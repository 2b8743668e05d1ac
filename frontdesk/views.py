"""Front desk (前台): find or register the taxpayer, open a consultation (办问协同),
then handle each item on the spot or transfer it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.catalogue.models import HandlingList, Item
from taxservice.catalogue.selectors import item_search
from taxservice.errors import InvalidInput, ServiceError
from taxservice.grids.models import ServicePoint
from taxservice.org.models import Branch, Staff
from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.selectors import taxpayer_search
from taxservice.taxpayers.services import taxpayer_register
from taxservice.taxpayers.validators import normalise_credit_code
from taxservice.web.access import staff_page
from taxservice.web.deadlines import attach_deadlines
from taxservice.web.queries import paginate
from taxservice.workflow.cases import selectors, services, transitions
from taxservice.workflow.cases.models import Case, Task, TaskState

from .forms import CaseOpenForm, TaxpayerRegisterForm, TaxpayerSearchForm

PICKER_LIMIT = 12  # items shown per list in the picker


@staff_page(access.can_use_front_desk)
def consult(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Find the taxpayer by credit code or name, or register a new one."""
    search = TaxpayerSearchForm(request.GET or None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    page = None
    if query:
        page = paginate(request, taxpayer_search(query=query))
    register = TaxpayerRegisterForm(request.POST or None)
    status = 200
    if request.method == "POST" and register.is_valid():
        data = register.cleaned_data
        try:
            taxpayer = taxpayer_register(
                actor=staff,
                credit_code=data["credit_code"],
                name=data["name"],
                competent_branch_code=data["competent_branch"],
                classification=data["classification"],
                grade=data["grade"],
            )
        except ServiceError as error:
            register.add_service_error(error)
        else:
            messages.success(request, _("Registered %(taxpayer)s.") % {"taxpayer": taxpayer})
            return redirect("frontdesk:open_case", credit_code=taxpayer.credit_code)
    if request.method == "POST":
        status = 400
    context = {"search": search, "query": query, "page": page, "register": register}
    return render(request, "frontdesk/consult.html", context, status=status)


@staff_page(access.can_use_front_desk)
def open_case(request: HttpRequest, staff: Staff, credit_code: str) -> HttpResponse:
    """Open a consultation for one taxpayer with every item asked for, whole or not at all."""
    canonical = normalise_credit_code(credit_code)
    if canonical != credit_code and request.method == "GET":  # a code typed into the address bar
        return redirect("frontdesk:open_case", credit_code=canonical)
    taxpayer = get_object_or_404(Taxpayer.objects.select_related("competent_branch"), credit_code=credit_code)
    halls = list(Branch.objects.filter(kind=Branch.Kind.HALL).order_by("code"))
    own_hall = staff.home_branch.code if staff.home_branch.kind == Branch.Kind.HALL else ""
    points = list(ServicePoint.objects.filter(active=True).order_by("code"))
    form = CaseOpenForm(request.POST or None, halls=halls, service_points=points, initial={"hall": own_hall})
    chosen = _chosen_items(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                actor=staff,
                taxpayer=taxpayer.credit_code,
                channel=form.cleaned_data["channel"],
                hall=form.cleaned_data["hall"],
                service_point=form.cleaned_data["service_point"],
                scenario=form.cleaned_data["scenario"],
                reference=form.cleaned_data["reference"],
                notes=form.cleaned_data["notes"],
                items=[services.RequestedItem(item=item.code, note=item.note) for item in chosen],
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Consultation #%(case)s opened with %(count)s item(s).") % {"case": case.pk, "count": len(chosen)},
            )
            return redirect("frontdesk:case", case_id=case.pk)
    story = selectors.taxpayer_story(staff=staff, taxpayer_id=taxpayer.pk)
    attach_deadlines(story.open_tasks)
    context = {
        "taxpayer": taxpayer,
        "form": form,
        "chosen": chosen,
        "lists": HandlingList.choices,
        "story": story,
    }
    return render(request, "frontdesk/open_case.html", context, status=400 if request.method == "POST" else 200)


@staff_page(access.can_use_front_desk)
def item_picker(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Catalogue items matching a code or name, grouped under the three lists (htmx)."""
    query = request.GET.get("q", "").strip()
    chosen_codes = set(request.GET.getlist("items"))
    items = item_search(query=query)
    groups = []
    for value, label in HandlingList.choices:
        found = list(items.filter(handling_list=value).order_by("-high_frequency", "code")[: PICKER_LIMIT + 1])
        groups.append(
            {"value": value, "label": label, "items": found[:PICKER_LIMIT], "more": len(found) > PICKER_LIMIT}
        )
    context = {"groups": groups, "query": query, "chosen_codes": chosen_codes}
    return render(request, "frontdesk/_picker_results.html", context)


@staff_page(access.can_use_front_desk)
def chosen_items(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The chosen-items box after adding or removing one item (htmx)."""
    chosen = _chosen_items(request.GET)
    remove = request.GET.get("remove")
    chosen = [item for item in chosen if item.code != remove]
    add = request.GET.get("add")
    if add and all(item.code != add for item in chosen):
        item = Item.objects.filter(code=add, active=True).first()
        if item is not None:
            item.note = ""
            chosen.append(item)
    response = render(request, "frontdesk/_chosen_items.html", {"chosen": chosen})
    # After the swap, so the picker's refresh already includes the new choice.
    response["HX-Trigger-After-Settle"] = "chosenChanged"
    return response


def _chosen_items(data) -> list[Item]:  # a QueryDict
    """The items named by repeated `items` values, in that order, each with its `note_<code>`.

    Unknown codes are kept (as unsaved items) so the service can name them in its error.
    """
    codes = list(dict.fromkeys(code for code in data.getlist("items") if code))
    known = {item.code: item for item in Item.objects.filter(code__in=codes)}
    chosen = []
    for code in codes:
        item = known.get(code) or Item(code=code, name="?")
        item.note = data.get(f"note_{code}", "").strip()
        chosen.append(item)
    return chosen


@staff_page(access.can_use_front_desk)
def consultation(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    """The counter's view of a case: each item with what can be done with it right now."""
    case = _visible_case(staff, case_id)
    tasks = [_with_counter_steps(staff, task) for task in case.tasks.all()]
    return render(request, "frontdesk/consultation.html", {"case": case, "tasks": tasks})


@staff_page(access.can_use_front_desk)
def consultation_summary(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    """The case header alone, refreshed after a row changes (htmx)."""
    return render(request, "frontdesk/_case_summary.html", {"case": _visible_case(staff, case_id)})


@require_POST
@staff_page(access.can_use_front_desk)
def counter_step(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """Handle a received item on the spot, or transfer it. htmx gets the row back."""
    task = selectors.task_get_for_staff(staff=staff, task_id=task_id)
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    step = request.POST.get("transition", "")
    error = notice = None
    try:
        if step not in transitions.COUNTER_STEPS:
            raise InvalidInput(_("Unknown step."))
        services.task_transition(
            task_id=task.pk,
            actor=staff,
            name=step,
            result=request.POST.get("result", ""),
            expected_state=request.POST.get("expected_state") or None,
        )
    except ServiceError as exc:
        error = exc
    else:
        notice = _("%(step)s: done.") % {"step": transitions.label(step)}
    error_text = " ".join([error.detail, *(m for ms in error.fields.values() for m in ms)]) if error else ""
    if not request.headers.get("HX-Request"):
        if error is None:
            messages.success(request, notice)
        else:
            messages.error(request, error_text)
        return redirect("frontdesk:case", case_id=task.case_id)
    task = selectors.task_get_for_staff(staff=staff, task_id=task.pk) or task
    context = {
        "task": _with_counter_steps(staff, task),
        "error": error_text,
        "notice": notice,
        "posted_result": request.POST.get("result", "") if error else "",
    }
    response = render(request, "frontdesk/_consult_row.html", context)
    if error is None:
        response["HX-Trigger"] = "caseChanged"
    return response


def _visible_case(staff: Staff, case_id: int) -> Case:
    case = selectors.case_get_for_staff(staff=staff, case_id=case_id)
    if case is None:
        raise Http404(_("No such case, or it is not visible to you."))
    return case


def _with_counter_steps(staff: Staff, task: Task) -> Task:
    allowed = selectors.allowed_transitions(staff=staff, task=task) if task.state == TaskState.RECEIVED else []
    task.can_handle = "handle_on_spot" in allowed
    task.can_transfer = "transfer" in allowed
    return task
