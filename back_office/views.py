"""Back office (后台): the approval queue of branch chiefs, team leads and coordinators, the
extension requests branch chiefs decide on, and the chief's desk (分局长统筹):
docs/back-office.md."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.export import export_response, task_columns, wants_xlsx
from taxservice.web.filters import APPROVAL_FILTERS, DESK_FILTERS, filters_parse
from taxservice.web.forms import TransitionForm
from taxservice.web.labels import service_message
from taxservice.web.queries import (
    attach_actions,
    awaiting_approval_for_staff,
    extension_requests_for_staff,
    paginate,
)
from taxservice.web.redirects import safe_next
from taxservice.web.sorting import TASK_SORTS, sort_parse
from taxservice.workflow.cases import desk as desk_services
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import current_approval_step
from taxservice.workflow.cases.services import BulkRefused

from .forms import DelegationForm, ReminderForm, RevokeForm, ids_from
from .queries import desk_assignees, desk_deputy_candidates, desk_summary, desk_tasks

APPROVALS = "approvals"
EXTENSIONS = "extensions"
DESK_STEPS = ("assign", "reassign")  # dispatch a queued task; hand a held one to someone else


@staff_page(access.can_use_approvals)
def approvals(request: HttpRequest, staff: Staff) -> HttpResponse:
    deciding_extensions = access.can_decide_extensions(staff)
    show = EXTENSIONS if request.GET.get("show") == EXTENSIONS and deciding_extensions else APPROVALS
    lists = {APPROVALS: awaiting_approval_for_staff(staff=staff)}
    if deciding_extensions:
        lists[EXTENSIONS] = extension_requests_for_staff(staff=staff)
    # One set of filters for both tabs, so each tab's count is its list as filtered.
    filtered = filters_parse(request.GET, declared=APPROVAL_FILTERS, rows=lists[show])
    lists = {name: filtered.apply(rows) for name, rows in lists.items()}
    sort = sort_parse(request.GET.get("sort"), allowed=TASK_SORTS)
    tasks = sort.apply(lists[show])
    if wants_xlsx(request):
        return export_response(request, name=show, columns=task_columns(), rows=tasks)
    page = paginate(request, tasks)
    attach_actions(staff=staff, tasks=page.object_list)
    for task in page.object_list:
        task.step_now = current_approval_step(task)
    context = {
        "page": page,
        "sort": sort.value,
        "filtered": filtered,
        "show": show,
        # The shown list's count is the paginator's; only the other tab costs a count.
        "tabs": [(name, page.paginator.count if name == show else lists[name].count()) for name in lists]
        if len(lists) > 1
        else [],
        "actions": "back_office/_extension_actions.html"
        if show == EXTENSIONS
        else "back_office/_approval_actions.html",
        "bulk": show == APPROVALS and any("approve" in task.allowed for task in page.object_list),
    }
    return render(request, "back_office/approvals.html", context)


@require_POST
@staff_page(access.can_use_approvals)
def approvals_bulk(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Approve the ticked tasks (one item) with one opinion: all or nothing."""
    back = safe_next(request) or reverse("back_office:approvals")
    ids = ids_from(request.POST.getlist("task_ids"))
    try:
        done = desk_services.approve_many(actor=staff, task_ids=ids, opinion=request.POST.get("reason", ""))
    except BulkRefused as refused:
        lines = "; ".join(f"T{r.task_id}: {service_message(r.detail)}" for r in refused.refusals)
        messages.error(request, _("Nothing was approved. These tasks block it: %(tasks)s") % {"tasks": lines})
    except ServiceError as error:
        messages.error(request, service_message(error.detail))
    else:
        messages.success(
            request,
            _("Approved: %(tasks)s.") % {"tasks": ", ".join(f"T{task.pk}" for task in done)},
        )
    return HttpResponseRedirect(back)


# --- the chief's desk ------------------------------------------------------------------------


@staff_page(access.can_use_desk)
def desk(request: HttpRequest, staff: Staff) -> HttpResponse:
    summary = desk_summary(staff=staff)
    context = {"summary": summary, **_delegation_context(staff)}
    return render(request, "back_office/desk.html", context)


def _delegation_context(staff: Staff, form: DelegationForm | None = None) -> dict:
    if not access.can_delegate(staff):
        return {}
    rows = list(selectors.delegations_for_staff(staff=staff)[:20])
    now = timezone.now()
    for row in rows:
        row.status = (
            "revoked"
            if row.revoked_at is not None
            else "ended"
            if row.ends_at <= now
            else "planned"
            if row.starts_at > now
            else "running"
        )
        row.revocable = row.status in ("planned", "running") and (row.chief_id == staff.pk or access.is_admin(staff))
    is_chief = staff.has_role("branch_chief")
    candidates = desk_deputy_candidates(chief=staff).select_related("home_branch")
    return {
        "show_deputy": True,
        "delegations": rows,
        "delegation_form": (form or DelegationForm(candidates=candidates)) if is_chief else None,
        "revoke_form": RevokeForm(),
    }


@staff_page(access.can_use_desk)
def desk_task_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The branch's open work as a list, filtered as the desk's figures link to it."""
    rows = desk_tasks(staff=staff)
    filtered = filters_parse(request.GET, declared=DESK_FILTERS, rows=rows)
    sort = sort_parse(request.GET.get("sort"), allowed=TASK_SORTS)
    tasks = sort.apply(filtered.apply(rows))
    if wants_xlsx(request):
        return export_response(request, name="desk", columns=task_columns(), rows=tasks)
    page = paginate(request, tasks)
    attach_actions(staff=staff, tasks=page.object_list)
    choices = desk_assignees(tasks=page.object_list)
    people = []
    for task in page.object_list:
        step = next((name for name in DESK_STEPS if name in task.allowed), None)
        task.desk_form = (
            TransitionForm(step=step, task=task, assignees=choices.get(task.team_id)) if step is not None else None
        )
        task.movable = "reassign" in task.allowed
        if choices.get(task.team_id):
            people += [person for group in choices[task.team_id].groups for person in group.people]
    context = {
        "page": page,
        "sort": sort.value,
        "filtered": filtered,
        "actions": "back_office/_desk_actions.html",
        # Whom the ticked tasks may go to: the handlers of the teams on this page, once each.
        "rebalance_people": list({person.pk: person for person in people}.values()),
        "any_movable": any(task.movable for task in page.object_list),
    }
    return render(request, "back_office/desk_tasks.html", context)


def _desk_task(staff: Staff, task_id: int):
    task = desk_tasks(staff=staff).filter(pk=task_id).first()
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    return task


@require_POST
@staff_page(access.can_use_desk)
def desk_assign(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """Dispatch a queued task to a named person, or reassign a held one: the person is
    required (the desk never hands a task to the chief by default)."""
    task = _desk_task(staff, task_id)
    back = safe_next(request) or reverse("back_office:desk_tasks")
    step = request.POST.get("transition", "")
    if step not in DESK_STEPS:
        messages.error(request, _("Unknown step."))
        return HttpResponseRedirect(back)
    form = TransitionForm(request.POST, step=step, task=task, assignees=desk_assignees(tasks=[task]).get(task.team_id))
    if form.is_valid() and form.cleaned_data.get("assignee") is None:
        # Nobody to offer (or none chosen): never fall back to the service's default, the actor.
        messages.error(request, _("Choose whom to give the tasks to."))
    elif form.is_valid():
        try:
            done = services.task_transition(task_id=task.pk, actor=staff, **form.service_arguments())
        except ServiceError as error:
            messages.error(request, service_message(error.detail))
        else:
            messages.success(
                request,
                _("Task T%(task)s is now held by %(name)s.") % {"task": done.pk, "name": done.assignee.name},
            )
            return HttpResponseRedirect(back)
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return HttpResponseRedirect(back)


@require_POST
@staff_page(access.can_use_desk)
def desk_rebalance(request: HttpRequest, staff: Staff) -> HttpResponse:
    back = safe_next(request) or reverse("back_office:desk_tasks")
    try:
        done = desk_services.rebalance(
            actor=staff,
            task_ids=ids_from(request.POST.getlist("task_ids")),
            assignee_ids=ids_from(request.POST.getlist("assignee_ids")),
            reason=request.POST.get("reason", ""),
        )
    except BulkRefused as refused:
        lines = "; ".join(f"T{r.task_id}: {service_message(r.detail)}" for r in refused.refusals)
        messages.error(request, _("Nothing was moved. These tasks block it: %(tasks)s") % {"tasks": lines})
    except ServiceError as error:
        messages.error(request, service_message(error.detail))
    else:
        messages.success(request, _("Moved %(n)s tasks.") % {"n": len(done)})
    return HttpResponseRedirect(back)


@require_POST
@staff_page(access.can_delegate)
def delegation_create(request: HttpRequest, staff: Staff) -> HttpResponse:
    candidates = desk_deputy_candidates(chief=staff).select_related("home_branch")
    form = DelegationForm(request.POST, candidates=candidates)
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = desk_services.delegation_create(
                actor=staff,
                deputy_id=data["deputy"].pk,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, _("%(name)s is your deputy until %(until)s.") % {"name": row.deputy.name, "until": row.ends_at}
            )
            return redirect(reverse("back_office:desk") + "#deputy")
    if not access.can_use_desk(staff):
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("home")
    context = {"summary": desk_summary(staff=staff), **_delegation_context(staff, form)}
    return render(request, "back_office/desk.html", context, status=400)


@require_POST
@staff_page(access.can_delegate)
def delegation_revoke(request: HttpRequest, staff: Staff, delegation_id: int) -> HttpResponse:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the delegation ends early."))
    else:
        try:
            desk_services.delegation_revoke(
                actor=staff, delegation_id=delegation_id, reason=form.cleaned_data["reason"]
            )
        except ServiceError as error:
            if error.status == 404:
                raise Http404(error.detail) from None
            messages.error(request, service_message(error.detail))
        else:
            messages.success(request, _("The delegation was revoked."))
    return redirect(reverse("back_office:desk") + "#deputy")


@require_POST
@staff_page(access.can_send_reminders)
def task_reminder(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """催办 / 督办 from the task page."""
    task = selectors.task_get_for_staff(staff=staff, task_id=task_id)
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    form = ReminderForm(request.POST)
    url = reverse("task_detail", args=[task.pk])
    if not form.is_valid():
        messages.error(request, _("Choose the kind and write the message."))
        return redirect(url)
    try:
        desk_services.reminder_send(
            actor=staff, task_id=task.pk, kind=form.cleaned_data["kind"], message=form.cleaned_data["message"]
        )
    except ServiceError as error:
        messages.error(request, service_message(error.detail))
    else:
        messages.success(request, _("Sent to %(name)s.") % {"name": task.assignee.name if task.assignee else ""})
    return redirect(url + "#history")
