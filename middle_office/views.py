"""Middle office (中台): the queue of transferred tasks, and the coordinator's dashboard
(the hub 任务统筹: queue and bulk actions, the robot, staff on duty, uploads, routing rules)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.changes.selectors import changes_for, changes_for_type
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.deadlines import attach_deadlines
from taxservice.web.export import export_response, hub_columns, task_columns, wants_xlsx
from taxservice.web.filters import QUEUE_FILTERS, filters_parse
from taxservice.web.labels import filter_label
from taxservice.web.queries import PAGE_SIZE, attach_actions, paginate, people_by_team, queue_for_staff, team_choices
from taxservice.web.redirects import safe_next
from taxservice.web.sorting import HUB_SORTS, TASK_SORTS, sort_parse
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import TaskState
from taxservice.workflow.routing import services as routing_services
from taxservice.workflow.routing.models import DispatchDecision, RobotSettings, RoutingRule, UploadBatch
from taxservice.workflow.routing.uploads import MAX_BYTES, upload_progress, upload_refuse_large, upload_start

from .display import change_rows, describe_matches, skipped_reasons
from .forms import BulkForm, DutyForm, HubFilterForm, RobotForm, RuleForm, UploadForm
from .selectors import (
    Clock,
    districts,
    duty_counts,
    hub_facets,
    hub_tasks,
    robot_backlog_count,
    robot_recent_runs,
    rule_changes,
    rules_in_order,
    staff_with_load,
    upload_batch,
    upload_batches,
)


@staff_page(access.can_use_queue)
def queue(request: HttpRequest, staff: Staff) -> HttpResponse:
    visible = queue_for_staff(staff=staff)
    filtered = filters_parse(request.GET, declared=QUEUE_FILTERS, rows=visible)
    sort = sort_parse(request.GET.get("sort"), allowed=TASK_SORTS)
    tasks = sort.apply(filtered.apply(visible).order_by("due_at", "id"))
    if wants_xlsx(request):
        return export_response(request, name="middle-office-queue", columns=task_columns(), rows=tasks)
    page = paginate(request, tasks)
    attach_actions(staff=staff, tasks=page.object_list)
    return render(request, "middle_office/queue.html", {"page": page, "filtered": filtered, "sort": sort.value})


# --- the coordinator's dashboard (任务统筹, the hub) -------------------------------------------


@staff_page(access.can_use_hub)
def hub(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The hub queue with its facets; a POST is a bulk action on the ticked rows."""
    teams = team_choices()
    filter_form = HubFilterForm(request.GET, teams=teams)
    filters = filter_form.filters()
    clock = Clock.at(timezone.now())
    # Who may hold a task in those teams, by team, with their load; off duty shown, not choosable.
    bulk = BulkForm(request.POST or None, assignees=people_by_team(teams=teams), teams=teams)
    refusals: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        if bulk.is_valid():
            done = _bulk_action(request, staff, bulk)
            if done:
                return HttpResponseRedirect(request.get_full_path())
            refusals = _refusals_by_task(bulk)
        status = 400
    sort = sort_parse(request.GET.get("sort"), allowed=HUB_SORTS)
    tasks = sort.apply(hub_tasks(staff=staff, filters=filters, clock=clock))
    if request.method == "GET" and wants_xlsx(request):
        columns = hub_columns(with_assignee=filters["state"] != "queued")
        return export_response(request, name="hub", columns=columns, rows=tasks)
    page = paginate(request, tasks)
    facets = hub_facets(staff=staff, filters=filters, clock=clock)
    ticked = set(bulk.cleaned_data.get("tasks", [])) if bulk.is_bound and hasattr(bulk, "cleaned_data") else set()
    attach_deadlines(page.object_list)
    for task in page.object_list:
        task.refusal = refusals.get(task.pk, "")
        task.ticked = task.pk in ticked
    context = {
        "page": page,
        "filters": filters,
        "filter_form": filter_form,
        "facets": _facet_links(request, filters, facets),
        "chips": _chips(request, filter_form, filters, team_names={f.value: f.label for f in facets["team"]}),
        "filter_problems": filter_form.problems,
        "bulk": bulk,
        "now": clock.now,
        "state": filters["state"],
        "state_label": TaskState(filters["state"]).label,
        "sort": sort.value,
    }
    return render(request, "middle_office/hub.html", context, status=status)


FACET_TITLES = {
    "state": gettext_lazy("State"),
    "alerts": gettext_lazy("Alerts"),
    "due": gettext_lazy("Due"),
    "age": gettext_lazy("Age"),
    "team": gettext_lazy("Team"),
    "source": gettext_lazy("Source line"),
}
FACET_TONES = {("due", "overdue"): "overdue", ("due", "today"): "today", ("alerts", "true"): "alert"}


def _facet_links(request: HttpRequest, filters: dict, facets: dict) -> list[dict]:
    """Each facet value as a link to the list it counts: the current filters with that value
    set (or, for the active value, cleared), back on page one."""
    out = []
    for name, title in FACET_TITLES.items():
        current = "true" if name == "alerts" and filters.get("alerts") else filters.get(name, "")
        links = []
        for facet in facets[name]:
            query = request.GET.copy()
            query.pop("page", None)
            active = facet.value == current
            if active and name != "state":
                query.pop(name, None)
            else:
                query[name] = facet.value
            links.append(
                {
                    "label": facet.label,
                    "count": facet.count,
                    "value": facet.value,
                    "active": active,
                    "href": "?" + query.urlencode(),
                    "tone": FACET_TONES.get((name, facet.value), ""),
                }
            )
        out.append({"name": name, "title": title, "links": links})
    return out


def _chips(request: HttpRequest, form: HubFilterForm, filters: dict, *, team_names: dict[str, str]) -> list[dict]:
    """The filters in force besides the state, each with a link that drops it."""
    chips = []
    for name in ("team", "source", "tier", "age", "due", "alerts"):
        if not filters.get(name):
            continue
        query = request.GET.copy()
        query.pop(name, None)
        query.pop("page", None)
        field = form.fields[name]
        if name == "alerts":
            value = _("yes")
        elif name == "team":
            value = team_names.get(filters[name]) or form.team_names.get(filters[name], filters[name])
        else:
            value = dict(field.choices).get(filters[name], filters[name])
        chips.append({"label": field.label, "value": value, "href": "?" + query.urlencode()})
    return chips


def _bulk_action(request: HttpRequest, staff: Staff, bulk: BulkForm) -> bool:
    """Run the bulk action. True when it went through (a message says what happened)."""
    data = bulk.cleaned_data
    action, ids = data["action"], data["tasks"]
    if action == "dispatch":
        _dispatch_each(request, staff, ids)
        return True
    try:
        done = services.task_transition_many(
            task_ids=ids,
            actor=staff,
            name=action,
            reason=data.get("reason") or "",
            assignee_id=data.get("assignee"),
            team_code=data.get("team") or "",
        )
    except ServiceError as error:
        bulk.add_service_error(error)
        return False
    numbers = ", ".join(f"T{task.pk}" for task in done)
    if action == "assign":
        text = _("Assigned %(n)s tasks to %(name)s: %(tasks)s.") % {
            "n": len(done),
            "name": done[0].assignee.name,
            "tasks": numbers,
        }
    elif action == "reroute":
        text = _("Sent %(n)s tasks to %(team)s: %(tasks)s.") % {
            "n": len(done),
            "team": done[0].team.name,
            "tasks": numbers,
        }
    else:
        text = _("Returned %(n)s tasks to their queues: %(tasks)s.") % {"n": len(done), "tasks": numbers}
    messages.success(request, text)
    return True


MAX_DISPATCH = 100


def _dispatch_each(request: HttpRequest, staff: Staff, ids: list[int]) -> None:
    """ "Dispatch now": the pipeline per task, each in its own transaction; a line per task."""
    lines, assigned = [], 0
    for task_id in ids[:MAX_DISPATCH]:
        try:
            decision = routing_services.task_dispatch(task_id=task_id, actor=staff)
        except ServiceError as error:
            lines.append(_("T%(id)s: not dispatched. %(why)s") % {"id": task_id, "why": error.detail})
            continue
        if decision.outcome == DispatchDecision.Outcome.ASSIGNED:
            assigned += 1
            lines.append(_("T%(id)s: assigned to %(name)s.") % {"id": task_id, "name": decision.chosen.name})
        else:
            lines.append(_("T%(id)s: %(outcome)s.") % {"id": task_id, "outcome": decision.get_outcome_display()})
    if len(ids) > MAX_DISPATCH:
        lines.append(_("Only the first %(n)s tasks were dispatched; dispatch the rest again.") % {"n": MAX_DISPATCH})
    summary = _("Dispatch now: %(assigned)s of %(n)s tasks assigned.") % {
        "assigned": assigned,
        "n": min(len(ids), MAX_DISPATCH),
    }
    level = messages.SUCCESS if assigned == min(len(ids), MAX_DISPATCH) else messages.WARNING
    messages.add_message(request, level, "\n".join([summary, *lines]))


_REFUSAL_LINE = re.compile(r"^T(?P<id>\d+): (?P<detail>.*)$")


def _refusals_by_task(bulk: BulkForm) -> dict[int, str]:
    """task_transition_many lists each refusal as "T<id>: <reason>": mark those rows."""
    refusals = {}
    for line in bulk.refusals:
        match = _REFUSAL_LINE.match(line)
        if match:
            refusals[int(match["id"])] = match["detail"]
    return refusals


@staff_page(access.can_use_hub)
def robot(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The auto-dispatch robot: paused or running, pause/resume with a reason, its last runs."""
    form = RobotForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = routing_services.robot_set_paused(
                    actor=staff, paused=form.cleaned_data["paused"], reason=form.cleaned_data["reason"]
                )
            except ServiceError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, _("The robot is paused.") if row.paused else _("The robot is running again."))
                return redirect("middle_office:robot")
        status = 400
    context = {
        "settings_row": RobotSettings.load(),
        "form": form,
        "runs": [(run, skipped_reasons(run.skipped_reasons)) for run in robot_recent_runs()],
        "backlog": robot_backlog_count(),
        "changes": changes_for(RobotSettings.load()),
    }
    return render(request, "middle_office/robot.html", context, status=status)


@staff_page(access.can_use_hub)
def staff_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Staff with their load; on duty first, the off-duty ones marked, a duty toggle each."""
    duty = request.GET.get("duty", "")
    team = request.GET.get("team", "")
    on_duty = {"on": True, "off": False}.get(duty)
    page = paginate(request, staff_with_load(on_duty=on_duty, team=team))
    context = {
        "page": page,
        "duty": duty,
        "team": team,
        "teams": team_choices(),
        "counts": duty_counts(),
        "next_url": request.get_full_path(),
        "changes": changes_for_type(Staff),
    }
    return render(request, "middle_office/staff.html", context)


@require_POST
@staff_page(access.can_use_hub)
def staff_duty(request: HttpRequest, staff: Staff, staff_id: int) -> HttpResponse:
    """Put someone on or off duty. With htmx the row comes back in place."""
    form = DutyForm(request.POST)
    error = notice = ""
    if not form.is_valid():
        error = _("Say whether the person comes on or goes off duty.")
    else:
        try:
            changed = routing_services.staff_set_duty(
                actor=staff, staff_id=staff_id, on_duty=form.cleaned_data["on_duty"]
            )
        except ServiceError as exc:
            error = exc.detail
        else:
            notice = (
                _("%(name)s is on duty; the robot sweeps the backlog.")
                if changed.on_duty
                else _("%(name)s is off duty.")
            ) % {"name": changed.name}
    if request.headers.get("HX-Request") == "true":
        person = staff_with_load().filter(pk=staff_id).first()
        if person is None:
            raise Http404
        context = {
            "person": person,
            "row_error": error,
            "row_notice": "" if error else notice,
            "next_url": safe_next(request) or reverse("middle_office:staff"),
        }
        # 200 either way: htmx swaps only successful answers, and the row carries the error.
        response = render(request, "middle_office/_staff_row.html", context)
        if not error:
            response["HX-Trigger"] = "dutyChanged"  # the on/off counts above the table refresh themselves
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return HttpResponseRedirect(safe_next(request) or reverse("middle_office:staff"))


# --- bulk upload ------------------------------------------------------------------------------


@staff_page(access.can_use_hub)
def uploads(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Upload a CSV or XLSX file of tasks; the recent batches below."""
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                # Django has spooled the body already (the CSRF check reads the form), to a
                # temporary file past 2.5 MB; its declared size refuses it before it is read.
                upload_refuse_large(file_size=upload.size)
                batch = upload_start(actor=staff, filename=upload.name, content=upload.read(MAX_BYTES + 1))
            except ServiceError as error:
                form.add_error("file", error.detail)
            else:
                return redirect("middle_office:upload_detail", batch_id=batch.pk)
        status = 400
    context = {"form": form, "page": paginate(request, upload_batches())}
    return render(request, "middle_office/uploads.html", context, status=status)


@staff_page(access.can_use_hub)
def upload_detail(request: HttpRequest, staff: Staff, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    return render(request, "middle_office/upload_detail.html", _batch_context(request, batch))


@staff_page(access.can_use_hub)
def upload_status(request: HttpRequest, staff: Staff, batch_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx every second until the batch is finished."""
    batch = _batch_or_404(batch_id)
    return render(request, "middle_office/_upload_progress.html", _batch_context(request, batch))


@staff_page(access.can_use_hub)
def upload_template(request: HttpRequest, staff: Staff) -> HttpResponse:
    """An empty CSV file with the columns the upload reads."""
    response = HttpResponse("source,taxpayer,item,notes\r\n", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="task-upload-template.csv"'
    return response


def _batch_or_404(batch_id: int) -> UploadBatch:
    batch = upload_batch(batch_id=batch_id)
    if batch is None:
        raise Http404(_("No such upload."))
    return batch


FINISHED = {UploadBatch.State.DONE, UploadBatch.State.FAILED}
UPLOAD_COLUMNS = {
    "source": gettext_lazy("Source line"),
    "taxpayer": gettext_lazy("Taxpayer"),
    "item": gettext_lazy("Item"),
    "notes": gettext_lazy("Notes"),
}


def _batch_context(request: HttpRequest, batch: UploadBatch) -> dict:
    processed, total = upload_progress(batch)
    finished = batch.state in FINISHED
    percent = 100 if finished else (min(100, processed * 100 // total) if total else 0)
    # A failure of the whole file (an interrupted or broken import) is one line with no row:
    # said as a sentence, not as a one-row report.
    failure = next((error["message"] for error in batch.errors or [] if error.get("row") is None), "")
    rows = [error for error in batch.errors or [] if error.get("row") is not None]
    errors = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if rows else None
    if errors is not None:
        for error in errors.object_list:
            error["field_label"] = UPLOAD_COLUMNS.get(error.get("field"), error.get("field") or "—")
    return {
        "batch": batch,
        "processed": processed,
        "total": total,
        "percent": percent,
        "finished": finished,
        "errors": errors,
        "failure": failure,
    }


# --- routing rules ----------------------------------------------------------------------------


@staff_page(access.can_use_hub)
def rules(request: HttpRequest, staff: Staff) -> HttpResponse:
    page = Paginator(rules_in_order(), PAGE_SIZE).get_page(request.GET.get("page"))
    for rule in page.object_list:
        rule.matches_text = describe_matches(rule)
        rule.filter_labels = [filter_label(name) for name in rule.filters]
    return render(request, "middle_office/rules.html", {"page": page})


@staff_page(access.can_use_hub)
def rule_edit(request: HttpRequest, staff: Staff, rule_id: int | None = None) -> HttpResponse:
    """Edit a rule (or create one): the changed fields and a reason go to `rule_save`."""
    rule = None
    if rule_id is not None:
        rule = (
            RoutingRule.objects.select_related("match_item", "match_district", "updated_by", "team")
            .filter(pk=rule_id)
            .first()
        )
        if rule is None:
            raise Http404(_("No such routing rule."))
    form = RuleForm(request.POST or None, rule=rule, districts=districts())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = form.changes()
            if not changes:
                form.add_error(None, _("Nothing was changed: edit at least one field."))
            else:
                try:
                    saved = routing_services.rule_save(
                        actor=staff, rule_id=rule_id, changes=changes, reason=form.cleaned_data["reason"]
                    )
                except ServiceError as error:
                    form.add_service_error(error)
                else:
                    messages.success(
                        request,
                        _("Saved “%(name)s” as version %(version)s.") % {"name": saved.name, "version": saved.version},
                    )
                    return redirect("middle_office:rule_edit", rule_id=saved.pk)
        status = 400
    history = None
    if rule is not None:
        history = Paginator(rule_changes(rule=rule), PAGE_SIZE).get_page(request.GET.get("page"))
        history.rows = change_rows(history.object_list)
    return render(
        request, "middle_office/rule_edit.html", {"rule": rule, "form": form, "history": history}, status=status
    )
