"""The working-day calendar's page: a month grid for every signed-in staff member; for
administrators also the override form, the month's year of overrides, the change log and
the recomputations of the open due times, with a progress bar htmx polls while one runs.

The page parses input and renders; the overrides go through
`taxservice.workdays.services`, the same functions the API calls.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.web.queries import paginate
from taxservice.workdays import selectors
from taxservice.workdays.calendar import Day
from taxservice.workdays.models import ClockRecompute, DayKind
from taxservice.workdays.services import calendar_override_remove, calendar_override_set, parse_date

# Each kind has a symbol as well as a colour and its name, so the grid reads without colour.
KIND_MARKS = {
    DayKind.WORKDAY: "○",
    DayKind.WEEKEND: "–",
    DayKind.HOLIDAY: "★",
    DayKind.ADJUSTED_WORKDAY: "◆",
}
KIND_HINTS = {
    DayKind.WORKDAY: gettext_lazy("Monday to Friday, office hours."),
    DayKind.WEEKEND: gettext_lazy("Saturday or Sunday, not worked."),
    DayKind.HOLIDAY: gettext_lazy("A public holiday: not worked."),
    DayKind.ADJUSTED_WORKDAY: gettext_lazy("A weekend day worked to make up for a holiday (调休)."),
}
OVERRIDE_MARK = "✎"
UNFINISHED = (ClockRecompute.State.PENDING, ClockRecompute.State.RUNNING)


class OverrideForm(ServiceErrorsMixin, forms.Form):
    """The override's fields as typed; the service validates them (and the form keeps them)."""

    date = forms.CharField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", "—"), *DayKind.choices],
        required=False,
        help_text=gettext_lazy("Not needed to remove an override."),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("The holiday's name, e.g. 春节; empty for an ordinary day."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required: e.g. the State Council's notice. Kept in the change log."),
    )


def _month_url(first: dt.date | None, **extra: str) -> str | None:
    if first is None:
        return None
    return f"{reverse('calendar')}?{urlencode({'month': first.strftime('%Y-%m'), **extra})}"


def _cells(month: selectors.Month, *, today: dt.date, editable: bool) -> list[list[dict | None]]:
    labels = dict(DayKind.choices)

    def cell(day: Day | None) -> dict | None:
        if day is None:
            return None
        return {
            "day": day,
            "label": labels[day.kind],
            "mark": KIND_MARKS[day.kind],
            "name": selectors.day_name_display(day.name),
            "override": day.source == "override",
            "today": day.date == today,
            "pick_url": _month_url(month.first, date=day.date.isoformat()) if editable else None,
        }

    return [[cell(day) for day in week] for week in month.weeks]


def _context(
    request: HttpRequest, staff: Staff, *, form: OverrideForm | None = None, focus: dt.date | None = None
) -> dict:
    today = timezone.localdate()
    first = focus.replace(day=1) if focus else selectors.parse_month(request.GET.get("month"), today=today)
    month = selectors.calendar_month(year=first.year, month=first.month)
    editable = access.can_edit_calendar(staff)
    context = {
        "month": month,
        "weeks": _cells(month, today=today, editable=editable),
        "weekdays": [WEEKDAYS_ABBR[number] for number in range(7)],
        "previous_url": _month_url(month.previous),
        "next_url": _month_url(month.next),
        "today_url": reverse("calendar") if first != today.replace(day=1) else None,
        "legend": [
            {"kind": kind, "label": label, "mark": KIND_MARKS[kind], "hint": KIND_HINTS[kind]}
            for kind, label in DayKind.choices
        ],
        "override_mark": OVERRIDE_MARK,
        "years_to_enter": selectors.years_to_enter(today=today),
        "editable": editable,
    }
    if editable:
        picked = request.GET.get("date", "")
        context |= {
            "form": form or OverrideForm(initial={"date": picked[:10]}),
            "overrides": selectors.calendar_override_list().filter(date__year=first.year),
            "page": paginate(request, selectors.calendar_change_list()),
            "runs": selectors.clock_recompute_list(limit=5),
            "unfinished": UNFINISHED,
        }
    return context


@staff_page()
def calendar_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    return render(request, "web/calendar.html", _context(request, staff))


@require_POST
@staff_page(access.can_edit_calendar)
def calendar_override(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Set (button `action=set`) or remove (`action=remove`) the override of a date."""
    form = OverrideForm(request.POST)
    form.is_valid()  # every field is optional text: the service judges it
    data = form.cleaned_data
    removing = request.POST.get("action") == "remove"
    try:
        if removing:
            change = calendar_override_remove(actor=staff, date=data.get("date"), reason=data.get("reason"))
            messages.success(request, _("The override of %(date)s is removed.") % {"date": change.date})
        else:
            change = calendar_override_set(
                actor=staff,
                date=data.get("date"),
                kind=data.get("kind"),
                name=data.get("name"),
                reason=data.get("reason"),
            )
            messages.success(
                request,
                _("%(date)s is now “%(kind)s”.") % {"date": change.date, "kind": change.get_after_kind_display()},
            )
    except ServiceError as error:
        form.add_service_error(error)
        focus = _date_or_none(data.get("date"))
        return render(request, "web/calendar.html", _context(request, staff, form=form, focus=focus), status=400)
    if change.recompute_id is not None:
        messages.info(request, _("The open tasks' due times are being recomputed."))
    return HttpResponseRedirect(_month_url(change.date.replace(day=1)))


@staff_page(access.can_edit_calendar)
def calendar_recompute(request: HttpRequest, staff: Staff, run_id: int) -> HttpResponse:
    """One recomputation's row with its progress bar, polled by htmx every second until it ends."""
    run = selectors.clock_recompute_get(run_id=run_id)
    if run is None:
        raise Http404(_("No such recomputation."))
    return render(request, "web/_calendar_recompute.html", {"run": run, "unfinished": UNFINISHED})


def _date_or_none(raw: str | None) -> dt.date | None:
    try:
        return parse_date(raw)
    except ServiceError:
        return None
