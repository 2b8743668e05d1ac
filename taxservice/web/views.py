"""The shared pages. Views parse input, call a selector or service, and render."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.org.selectors import staff_for_user
from taxservice.taxpayers.selectors import taxpayer_search
from taxservice.web.access import staff_page
from taxservice.web.deadlines import clock_rows
from taxservice.web.decisions import decision_records
from taxservice.web.export import CASE_COLUMNS, export_response, task_columns, wants_xlsx
from taxservice.web.fieldchecks import field_check_panel
from taxservice.web.filters import CASE_FILTERS, MY_TASK_FILTERS, filters_parse
from taxservice.web.forms import NoteForm, TransitionForm
from taxservice.web.history import history_rows
from taxservice.web.labels import FIELD_LABELS
from taxservice.web.queries import (
    assignee_choices,
    attach_actions,
    home_counts,
    my_open_tasks,
    paginate,
    sent_back,
    team_choices,
)
from taxservice.web.redirects import safe_next
from taxservice.web.sorting import CASE_SORTS, TASK_SORTS, sort_parse
from taxservice.web.subtasks import subtask_panel
from taxservice.workflow.cases import selectors, services, transitions
from taxservice.workflow.cases.models import OPEN_STATES, Task


class WebAuthenticationForm(AuthenticationForm):
    """Django's sign-in, refusing accounts that are for the API only (integrators)."""

    def confirm_login_allowed(self, user) -> None:  # a User
        super().confirm_login_allowed(user)
        staff = staff_for_user(user)
        if staff is not None and not access.can_use_web(staff):
            raise ValidationError(access.WEB_REFUSAL, code="api_only")


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = WebAuthenticationForm


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link cannot sign anybody out."""


@staff_page()
def home(request: HttpRequest, staff: Staff) -> HttpResponse:
    return render(request, "web/home.html", {"counts": home_counts(staff=staff)})


@staff_page()
def my_tasks(request: HttpRequest, staff: Staff) -> HttpResponse:
    mine = my_open_tasks(staff=staff)
    filtered = filters_parse(request.GET, declared=MY_TASK_FILTERS, rows=mine)
    sort = sort_parse(request.GET.get("sort"), allowed=TASK_SORTS)
    tasks = sort.apply(filtered.apply(mine))
    if wants_xlsx(request):
        return export_response(request, name="my-tasks", columns=task_columns(with_assignee=False), rows=tasks)
    page = paginate(request, tasks)
    attach_actions(staff=staff, tasks=page.object_list)
    return render(request, "web/my_tasks.html", {"page": page, "sort": sort.value, "filtered": filtered})


SEARCH_MAX_CHARS = 100
_TASK_NUMBER = re.compile(r"^[Tt]\s*(\d{1,18})$")
_CASE_NUMBER = re.compile(r"^#?\s*(\d{1,18})$")


@staff_page()
def search(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The top bar's search: a task number (T123) or a case number (#45, 45) opens it where
    the person may see it; anything else finds taxpayers by code or name, with their cases."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    task_number = _TASK_NUMBER.match(query)
    if task_number and selectors.task_get_for_staff(staff=staff, task_id=int(task_number.group(1))):
        return redirect("task_detail", task_id=int(task_number.group(1)))
    case_number = _CASE_NUMBER.match(query)
    if case_number and selectors.case_list_for_staff(staff=staff).filter(pk=int(case_number.group(1))).exists():
        return redirect("case_detail", case_id=int(case_number.group(1)))
    page = paginate(request, taxpayer_search(query=query)) if query else None
    cases = (
        selectors.case_list_for_staff(staff=staff)
        .filter(taxpayer__in=list(page.object_list))
        .order_by("-created_at")[:50]
        if page is not None
        else []
    )
    context = {
        "search_query": query,
        "page": page,
        "cases": cases,
        "number_not_found": bool(task_number or case_number),
    }
    return render(request, "web/search.html", context)


@staff_page()
def case_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    visible = selectors.case_list_for_staff(staff=staff)
    filtered = filters_parse(request.GET, declared=CASE_FILTERS, rows=visible)
    cases = filtered.apply(visible).annotate(
        task_count=Count("tasks", distinct=True),
        open_task_count=Count("tasks", filter=Q(tasks__state__in=OPEN_STATES), distinct=True),
    )
    sort = sort_parse(request.GET.get("sort"), allowed=CASE_SORTS)
    cases = sort.apply(cases)
    if wants_xlsx(request):
        return export_response(request, name="cases", columns=CASE_COLUMNS, rows=cases)
    page = paginate(request, cases)
    return render(request, "web/case_list.html", {"page": page, "sort": sort.value, "filtered": filtered})


@staff_page()
def case_detail(request: HttpRequest, staff: Staff, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_staff(staff=staff, case_id=case_id)
    if case is None:
        raise Http404(_("No such case, or it is not visible to you."))
    tasks = list(case.tasks.all())
    all_rows = history_rows([row for task in tasks for row in task.transitions.all()])
    position = 0
    for task in tasks:
        count = len(task.transitions.all())
        task.history = all_rows[position : position + count]
        position += count
    return render(request, "web/case_detail.html", {"case": case, "tasks": tasks})


@staff_page()
def task_detail(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    task = _visible_task(staff, task_id)
    return _render_task(request, staff, task)


@require_POST
@staff_page()
def task_step(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """Make one step on a task (POST from the task page or a list), then redirect (PRG).

    With a `next` address (list pages) a refusal becomes a message on that page; from
    the task page the form comes back with the service's messages on its inputs.
    """
    task = _visible_task(staff, task_id)
    step = request.POST.get("transition", "")
    next_url = safe_next(request)
    if transitions.get(step) is None:
        messages.error(request, _("Unknown step."))
        return redirect(next_url or task_url(task))
    form = _step_form(staff, task, step, data=request.POST)
    if form.is_valid():
        try:
            done = services.task_transition(task_id=task.pk, actor=staff, **form.service_arguments())
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("%(step)s: done. Task %(task)s is now “%(state)s”.")
                % {"step": transitions.label(step), "task": done.pk, "state": done.get_state_display()},
            )
            if next_url:
                return HttpResponseRedirect(next_url)
            still_visible = selectors.task_list_for_staff(staff=staff).filter(pk=task.pk).exists()
            return redirect(task_url(task) if still_visible else reverse("my_tasks"))
    if next_url:
        messages.error(request, error_text(form))
        return HttpResponseRedirect(next_url)
    # Show the task as it is now, which may not be how the person last saw it.
    current = selectors.task_get_for_staff(staff=staff, task_id=task.pk)
    if current is None:
        messages.error(request, error_text(form))
        return redirect("my_tasks")
    return _render_task(request, staff, current, failed=form, status=400)


@require_POST
@staff_page()
def task_note(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    """Add a note to the task (POST from its page); a refusal keeps what was typed."""
    task = _visible_task(staff, task_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.task_comment_add(actor=staff, task_id=task.pk, body=form.cleaned_data["body"])
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Note added."))
            return redirect(task_url(task) + "#notes")
    return _render_task(request, staff, task, note_form=form, status=400)


def _render_task(
    request: HttpRequest,
    staff: Staff,
    task: Task,
    *,
    failed: TransitionForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    history = history_rows(selectors.task_history(task=task))
    forms = []
    # A form posted against an older state is not shown again: its hidden state is stale.
    reusable = failed is not None and failed.data.get("expected_state") in ("", None, task.state)
    # In the specs' order: what moves the task forward first; steps that undo, redirect or
    # stop work last, folded away until opened.
    steps = sorted(selectors.allowed_transitions(staff=staff, task=task), key=transitions.position)
    for step in steps:
        if reusable and failed.step == step:
            forms.append(failed)
        else:
            forms.append(_step_form(staff, task, step))
    for form in forms:
        spec = transitions.TRANSITIONS[form.step]
        form.folded = spec.folded and not form.errors
        form.tone = "danger" if spec.danger else "plain" if spec.folded else "primary"
    if failed is not None and not any(form is failed for form in forms):
        # The step is no longer on offer (e.g. someone else moved the task): still say why.
        messages.error(request, error_text(failed))
    # Approve and reject share one opinion box and sit side by side.
    steps_on_offer = {form.step for form in forms}
    clock_table = clock_rows(task)
    context = {
        "task": task,
        "clocks": clock_table,
        "history": history,
        "decisions": decision_records(task=task),
        "forms": forms,
        "approval_pair": {"approve", "reject"} <= steps_on_offer,
        "send_back_on_offer": "send_back" in steps_on_offer,
        "sent_back": sent_back(task=task),
        "notes": selectors.task_comments(task=task),
        "note_form": note_form or NoteForm(),
        "field_checks": field_check_panel(staff=staff, task=task),
        "subtasks": subtask_panel(staff=staff, task=task),
        # 催办 / 督办 (back_office.views.task_reminder): a chief or coordinator, to whoever holds an open task.
        "can_remind": access.can_send_reminders(staff) and task.assignee_id is not None and task.state in OPEN_STATES,
    }
    return render(request, "web/task_detail.html", context, status=status)


def _step_form(staff: Staff, task: Task, step: str, data=None) -> TransitionForm:
    """The form for one step, with the people or teams it may name."""
    inputs = transitions.TRANSITIONS[step].inputs if step in transitions.TRANSITIONS else {}
    assignees = assignee_choices(staff=staff, task=task) if "assignee" in inputs else None
    teams = team_choices() if "team" in inputs else None
    return TransitionForm(data, step=step, task=task, assignees=assignees, teams=teams)


def _visible_task(staff: Staff, task_id: int) -> Task:
    task = selectors.task_get_for_staff(staff=staff, task_id=task_id)
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    return task


def task_url(task: Task) -> str:
    return reverse("task_detail", args=[task.pk])


def error_text(form: TransitionForm) -> str:
    """All of a form's errors as one sentence, for a message on another page."""
    parts = list(form.non_field_errors())
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label = form.fields[name].label if name in form.fields else FIELD_LABELS.get(name, name)
        parts.extend(f"{label}: {message}" for message in errors)
    return " ".join(str(part) for part in parts)
