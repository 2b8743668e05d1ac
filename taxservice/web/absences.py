"""A staff member's conflicts of interest (回避) and leave: `/staff/<id>/absences/`.

For a branch chief (the staff of their branch scope) and an administrator: the two lists,
current first, with who declared and withdrew what; a form to declare each, with a reason;
a withdrawal with a reason. The services (`routing.services.conflict_declare`, …) check,
write and audit; a refusal stays on its form with the words typed kept. Another branch's
staff member is 404.
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
from taxservice.errors import NotFound, ServiceError
from taxservice.org.models import Staff
from taxservice.pagination import IdFirstPaginator
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.web.queries import PAGE_SIZE
from taxservice.workflow.routing import selectors, services


class ConflictForm(ServiceErrorsMixin, forms.Form):
    taxpayer = forms.CharField(
        label=gettext_lazy("Taxpayer (unified social credit code)"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "91…"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        help_text=gettext_lazy("e.g. a relative works there; a former employer."),
    )


class LeaveForm(ServiceErrorsMixin, forms.Form):
    starts_on = forms.DateField(label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=100)


def _staff_or_404(staff: Staff, staff_id: int) -> Staff:
    try:
        return selectors.absence_staff(actor=staff, staff_id=staff_id)
    except NotFound as error:
        raise Http404(error.detail) from None


def _render(request, staff: Staff, person: Staff, *, conflict_form=None, leave_form=None, status: int = 200):
    return render(
        request,
        "web/absences.html",
        {
            "person": person,
            # Two lists on one page, each with its own page number (?cpage=, ?lpage=).
            "conflicts": IdFirstPaginator(selectors.conflict_list(actor=staff, staff_id=person.pk), PAGE_SIZE).get_page(
                request.GET.get("cpage")
            ),
            "leaves": IdFirstPaginator(selectors.leave_list(actor=staff, staff_id=person.pk), PAGE_SIZE).get_page(
                request.GET.get("lpage")
            ),
            "conflict_form": conflict_form or ConflictForm(),
            "leave_form": leave_form or LeaveForm(),
        },
        status=status,
    )


@staff_page(access.can_declare_absences)
def absences(request: HttpRequest, staff: Staff, staff_id: int) -> HttpResponse:
    person = _staff_or_404(staff, staff_id)
    if request.method != "POST":
        return _render(request, staff, person)
    kind = request.POST.get("kind")
    form: ConflictForm | LeaveForm = ConflictForm(request.POST) if kind == "conflict" else LeaveForm(request.POST)
    forms_kw = {"conflict_form": form} if kind == "conflict" else {"leave_form": form}
    if not form.is_valid():
        return _render(request, staff, person, status=400, **forms_kw)
    data = form.cleaned_data
    try:
        if kind == "conflict":
            services.conflict_declare(actor=staff, staff_id=person.pk, taxpayer=data["taxpayer"], reason=data["reason"])
            messages.success(request, _("The conflict of interest is declared."))
        else:
            services.leave_declare(
                actor=staff,
                staff_id=person.pk,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                reason=data["reason"],
            )
            messages.success(request, _("The leave is declared."))
    except ServiceError as error:
        form.add_service_error(error)
        return _render(request, staff, person, status=400, **forms_kw)
    return HttpResponseRedirect(reverse("staff_absences", args=[person.pk]))


@staff_page(access.can_declare_absences)
def absence_withdraw(request: HttpRequest, staff: Staff, staff_id: int, kind: str, row_id: int) -> HttpResponse:
    person = _staff_or_404(staff, staff_id)
    if kind not in {"conflict", "leave"}:
        raise Http404
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            if kind == "conflict":
                services.conflict_withdraw(actor=staff, staff_id=person.pk, conflict_id=row_id, reason=reason)
            else:
                services.leave_withdraw(actor=staff, staff_id=person.pk, leave_id=row_id, reason=reason)
        except NotFound as error:
            raise Http404(error.detail) from None
        except ServiceError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("The declaration is withdrawn."))
    return HttpResponseRedirect(reverse("staff_absences", args=[person.pk]))
