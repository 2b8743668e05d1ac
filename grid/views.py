"""Grid pages (网格): the grids one sees, a grid's overview with the coordinator's bulk grid
tasks, a taxpayer's page (grid, grade, cases), and the import of grid assignments."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.changes.selectors import changes_for
from taxservice.errors import ServiceError
from taxservice.grids import selectors as grid_selectors
from taxservice.grids.models import GridImport
from taxservice.org.models import Staff
from taxservice.taxpayers import grid_selectors as taxpayer_selectors
from taxservice.taxpayers.grid_services import (
    MAX_BYTES,
    grid_import_progress,
    grid_import_refuse_large,
    grid_import_start,
    grid_rules_apply,
    taxpayer_grid_set,
)
from taxservice.web.access import staff_page
from taxservice.web.queries import PAGE_SIZE, paginate
from taxservice.workflow.cases import selectors as case_selectors
from taxservice.workflow.nearby import selectors as nearby_selectors
from taxservice.workflow.routing import selectors as routing_selectors
from taxservice.workflow.routing.grid_tasks import grid_items, grid_tasks_create

from .forms import GridImportForm, GridTasksForm, RulesApplyForm, TaxpayerGridForm

ATTENTION_GRADES = ("C", "D")
ATTENTION_LIMIT = 20


@staff_page(access.can_see_grids)
def grid_list(request: HttpRequest, staff: Staff) -> HttpResponse:
    context = {
        "page": paginate(request, grid_selectors.grids_for_staff(staff=staff)),
        "rules_form": RulesApplyForm(),
        "runs": list(grid_selectors.grid_rule_runs()[:5]) if access.can_apply_grid_rules(staff) else [],
        "rules": list(grid_selectors.grid_rules().filter(active=True)) if access.can_apply_grid_rules(staff) else [],
    }
    return render(request, "grid/grids.html", context)


@staff_page(access.can_apply_grid_rules)
@require_POST
def rules_apply(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = RulesApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose which taxpayers the rules apply to."))
        return redirect("grid:grids")
    try:
        run = grid_rules_apply(actor=staff, scope=form.cleaned_data["scope"], reason=form.cleaned_data["reason"])
    except ServiceError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request,
            _("The grid rules were applied: %(n)s taxpayers moved (run %(id)s).") % {"n": run.changed, "id": run.pk},
        )
    return redirect("grid:grids")


def _grid_or_404(staff: Staff, code: str):
    grid = grid_selectors.grid_get_for_staff(staff=staff, code=code)
    if grid is None:
        raise Http404(_("No such grid, or not one of yours."))
    return grid


def _tasks_form(data=None) -> GridTasksForm:
    return GridTasksForm(data, items=grid_items(), grades=taxpayer_selectors.grade_choices())


@staff_page(access.can_see_grids)
def grid_detail(request: HttpRequest, staff: Staff, code: str) -> HttpResponse:
    grid = _grid_or_404(staff, code)
    return _render_detail(request, staff, grid, _tasks_form() if access.can_create_grid_tasks(staff) else None)


def _render_detail(request, staff, grid, form, status=200) -> HttpResponse:
    overdue = routing_selectors.overdue_taxpayer_ids(team_id=grid.team_id)
    field = taxpayer_selectors.grade_field()
    attention = list(
        taxpayer_selectors.grid_taxpayers(grid_id=grid.pk).filter(
            Q(**{f"{field}__in": ATTENTION_GRADES}) | Q(pk__in=overdue)
        )[:ATTENTION_LIMIT]
    )
    late = set(overdue.filter(taxpayer_id__in=[payer.pk for payer in attention]))
    attention_rows = [
        {"taxpayer": payer, "grade": taxpayer_selectors.grade_of(payer), "overdue": payer.pk in late}
        for payer in attention
    ]
    context = {
        "grid": grid,
        "members": grid_selectors.grid_members(grid=grid),
        "grades": taxpayer_selectors.grid_grade_counts(grid_id=grid.pk),
        "counts": routing_selectors.grid_task_counts(team_id=grid.team_id),
        "page": paginate(request, routing_selectors.grid_open_tasks(staff=staff, team_id=grid.team_id)),
        "activity": nearby_selectors.grid_activity(grid_id=grid.pk),
        "attention": attention_rows,
        "form": form,
        "max_selection": taxpayer_selectors.MAX_SELECTION,
        "now": timezone.now(),
    }
    return render(request, "grid/grid_detail.html", context, status=status)


@staff_page(access.can_create_grid_tasks)
@require_POST
def grid_tasks(request: HttpRequest, staff: Staff, code: str) -> HttpResponse:
    grid = _grid_or_404(staff, code)
    form = _tasks_form(request.POST)
    if form.is_valid():
        try:
            result = grid_tasks_create(
                actor=staff,
                grid_id=grid.pk,
                item=form.cleaned_data["item"],
                grades=form.cleaned_data["grades"],
                classifications=form.cleaned_data["classifications"],
                credit_codes=form.cleaned_data["credit_codes"],
                notes=form.cleaned_data["notes"],
            )
        except ServiceError as error:
            form.add_error(None, error.detail)
            for name, errors in (error.fields or {}).items():
                if name in form.fields:
                    for message in errors:
                        form.add_error(name, message)
        else:
            messages.success(
                request,
                _(
                    "%(created)s grid tasks created for %(selected)s taxpayers (%(merged)s merged into open tasks); "
                    "%(now)s dispatched now, %(robot)s left to the robot."
                )
                % {
                    "created": len(result.created),
                    "selected": result.selected,
                    "merged": len(result.merged),
                    "now": result.dispatched_now,
                    "robot": result.left_to_robot,
                },
            )
            return redirect("grid:grid", code=grid.code)
    return _render_detail(request, staff, grid, form, status=400)


# --- a taxpayer --------------------------------------------------------------------------------


@staff_page()
def taxpayer_detail(request: HttpRequest, staff: Staff, credit_code: str) -> HttpResponse:
    taxpayer = taxpayer_selectors.taxpayer_get(credit_code=credit_code)
    if taxpayer is None:
        raise Http404(_("No such taxpayer."))
    form = None
    if access.can_assign_grids(staff):
        form = TaxpayerGridForm(
            request.POST or None,
            grids=[g for g in grid_selectors.grid_choices() if access.may_manage_grid(staff, g)],
            initial={"grid": taxpayer.grid.code if taxpayer.grid else ""},
        )
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404(_("No such page."))
        if form.is_valid():
            try:
                taxpayer_grid_set(
                    actor=staff,
                    credit_code=taxpayer.credit_code,
                    grid_code=form.cleaned_data["grid"],
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, _("The taxpayer's grid was changed."))
                return redirect("grid:taxpayer", credit_code=taxpayer.credit_code)
        status = 400
    cases = case_selectors.case_list_for_staff(staff=staff).filter(taxpayer=taxpayer)
    tasks = case_selectors.task_list_for_staff(staff=staff).filter(taxpayer=taxpayer).order_by("-created_at", "-id")
    context = {
        "taxpayer": taxpayer,
        "grade": taxpayer_selectors.grade_of(taxpayer),
        "grade_field": taxpayer_selectors.grade_field(),
        "grid_visible": taxpayer.grid is not None and access.may_see_grid(staff, taxpayer.grid),
        "grid_history": taxpayer_selectors.taxpayer_grid_history(taxpayer_id=taxpayer.pk),
        "grade_history": taxpayer_selectors.taxpayer_grade_history(taxpayer_id=taxpayer.pk),
        "cases": cases[:PAGE_SIZE],
        "case_count": cases.count(),
        "tasks": tasks[:PAGE_SIZE],
        "task_count": tasks.count(),
        "form": form,
        "changes": changes_for(taxpayer),
    }
    return render(request, "grid/taxpayer.html", context, status=status)


# --- import ------------------------------------------------------------------------------------


@staff_page(access.can_assign_grids)
def imports(request: HttpRequest, staff: Staff) -> HttpResponse:
    form = GridImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                grid_import_refuse_large(file_size=upload.size)
                batch = grid_import_start(
                    actor=staff,
                    filename=upload.name,
                    content=upload.read(MAX_BYTES + 1),
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as error:
                form.add_error("file", error.detail)
            else:
                return redirect("grid:import", import_id=batch.pk)
        status = 400
    context = {"form": form, "page": paginate(request, grid_selectors.grid_imports_for_staff(staff=staff))}
    return render(request, "grid/imports.html", context, status=status)


@staff_page(access.can_assign_grids)
def import_detail(request: HttpRequest, staff: Staff, import_id: int) -> HttpResponse:
    return render(request, "grid/import_detail.html", _import_context(request, _import_or_404(staff, import_id)))


@staff_page(access.can_assign_grids)
def import_progress(request: HttpRequest, staff: Staff, import_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx every second until the import is finished."""
    return render(request, "grid/_import_progress.html", _import_context(request, _import_or_404(staff, import_id)))


@staff_page(access.can_assign_grids)
def import_template(request: HttpRequest, staff: Staff) -> HttpResponse:
    response = HttpResponse("credit_code,grid\r\n", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="grid-import-template.csv"'
    return response


def _import_or_404(staff: Staff, import_id: int) -> GridImport:
    batch = grid_selectors.grid_import_get_for_staff(staff=staff, import_id=import_id)
    if batch is None:
        raise Http404(_("No such import."))
    return batch


COLUMNS = {"credit_code": gettext_lazy("Credit code"), "grid": gettext_lazy("Grid")}


def _import_context(request: HttpRequest, batch: GridImport) -> dict:
    processed, total = grid_import_progress(batch)
    finished = batch.state in (GridImport.State.DONE, GridImport.State.FAILED)
    percent = 100 if finished else (min(100, processed * 100 // total) if total else 0)
    failure = next((e["message"] for e in batch.errors or [] if e.get("row") is None), "")
    rows = [dict(e, field_label=COLUMNS.get(e.get("field"), "—")) for e in batch.errors or [] if e.get("row")]
    errors = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if rows else None
    return {
        "batch": batch,
        "processed": processed,
        "total": total,
        "percent": percent,
        "finished": finished,
        "failure": failure,
        "errors": errors,
    }
