"""The classification page (分类分级), for administrators: the rules in force, a form that
saves an edit as a new version (with a reason) and starts the bulk recomputation, the
versions (each can be used again), and the recomputations with a progress bar htmx polls
while one runs.

The page parses input and renders; writes go through
`taxservice.taxpayers.classification_services`, the same functions the API calls.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.taxpayers import classification_selectors as selectors
from taxservice.taxpayers.classification import Compiled, as_text
from taxservice.taxpayers.classification_services import classification_run_start, rule_set_restore, rule_set_save
from taxservice.taxpayers.models import Category, ClassificationRun, ServiceGrade
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin

UNFINISHED = (ClassificationRun.State.PENDING, ClassificationRun.State.RUNNING)
RULE_HELP = gettext_lazy(
    "One rule per line: conditions, then “->” and the result; the first matching line wins. "
    "Conditions: kind, industry, scale, risk, credit (the tax credit grade), each name=value,value. "
    "Example: kind=enterprise scale=large credit=A risk=low -> A"
)


class RuleSetForm(ServiceErrorsMixin, forms.Form):
    """The rules as typed; the service validates them (and the form keeps them on a refusal)."""

    category_rules = forms.CharField(
        label=gettext_lazy("Category rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text=RULE_HELP,
    )
    default_category = forms.ChoiceField(
        label=gettext_lazy("Otherwise, the category"), choices=[("", "—"), *Category.choices], required=False
    )
    grade_rules = forms.CharField(
        label=gettext_lazy("Service grade rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false", "class": "mono"}),
        help_text=RULE_HELP,
    )
    default_grade = forms.ChoiceField(
        label=gettext_lazy("Otherwise, the service grade"), choices=[("", "—"), *ServiceGrade.choices], required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required: kept with the new version."),
    )


class RunForm(ServiceErrorsMixin, forms.Form):
    cause = forms.CharField(
        label=gettext_lazy("Why recompute"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("E.g. the risk levels were updated."),
    )


def _initial(active) -> dict:
    if active is None:
        return {}
    compiled = Compiled.of(active)
    return {
        "category_rules": as_text(compiled.category_rules),
        "default_category": active.default_category,
        "grade_rules": as_text(compiled.grade_rules),
        "default_grade": active.default_grade,
    }


def _context(*, form: RuleSetForm | None = None, run_form: RunForm | None = None) -> dict:
    active = selectors.rule_set_active()
    compiled = Compiled.of(active) if active else None
    return {
        "active": active,
        "category_rows": [(rule.as_line(), Category(rule.then).label) for rule in compiled.category_rules]
        if compiled
        else [],
        "grade_rows": [(rule.as_line(), ServiceGrade(rule.then).label) for rule in compiled.grade_rules]
        if compiled
        else [],
        "form": form or RuleSetForm(initial=_initial(active)),
        "run_form": run_form or RunForm(),
        "versions": selectors.rule_set_list()[:20],
        "runs": selectors.classification_run_list(limit=5),
        "unfinished": UNFINISHED,
    }


@staff_page(access.is_admin)
def classification_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    if request.method != "POST":
        return render(request, "web/classification.html", _context())
    form = RuleSetForm(request.POST)
    form.is_valid()  # every field is optional text: the service judges it
    data = form.cleaned_data
    try:
        rule_set, _run = rule_set_save(
            actor=staff,
            category_rules=data.get("category_rules", ""),
            default_category=data.get("default_category", ""),
            grade_rules=data.get("grade_rules", ""),
            default_grade=data.get("default_grade", ""),
            reason=data.get("reason", ""),
        )
    except ServiceError as error:
        form.add_service_error(error)
        return render(request, "web/classification.html", _context(form=form), status=400)
    messages.success(
        request,
        _("Version %(version)d is in force; every taxpayer is being recomputed.") % {"version": rule_set.version},
    )
    return HttpResponseRedirect(reverse("classification"))


@staff_page(access.is_admin)
def classification_restore(request: HttpRequest, staff: Staff, version: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("classification"))
    try:
        rule_set, _run = rule_set_restore(actor=staff, version=version, reason=request.POST.get("reason", ""))
    except ServiceError as error:
        messages.error(request, error.detail + "".join(f" {' '.join(m)}" for m in error.fields.values()))
        return HttpResponseRedirect(reverse("classification") + "#classification-versions")
    messages.success(
        request,
        _("Version %(old)d's rules are in force again, as version %(version)d.")
        % {"old": version, "version": rule_set.version},
    )
    return HttpResponseRedirect(reverse("classification"))


@staff_page(access.is_admin)
def classification_run_new(request: HttpRequest, staff: Staff) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("classification"))
    run_form = RunForm(request.POST)
    run_form.is_valid()
    try:
        classification_run_start(actor=staff, cause=run_form.cleaned_data.get("cause", ""))
    except ServiceError as error:
        run_form.add_service_error(error)
        return render(request, "web/classification.html", _context(run_form=run_form), status=400)
    messages.success(request, _("Every taxpayer is being recomputed."))
    return HttpResponseRedirect(reverse("classification"))


@staff_page(access.is_admin)
def classification_run_row(request: HttpRequest, staff: Staff, run_id: int) -> HttpResponse:
    """One run's row with its progress bar, polled by htmx every second until it ends."""
    run = selectors.classification_run_get(run_id=run_id)
    if run is None:
        raise Http404(_("No such recomputation."))
    return render(request, "web/_classification_run.html", {"run": run, "unfinished": UNFINISHED})
