"""The inbox page: the signed-in staff member's notifications, and marking them read."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from taxservice.errors import NotFound
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.export import INBOX_COLUMNS, export_response, wants_xlsx
from taxservice.web.queries import paginate
from taxservice.workflow.cases.inbox import (
    notification_list_for_staff,
    notification_mark_all_read,
    notification_mark_read,
)


@staff_page()
def inbox(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Newest first; `?show=unread` keeps only the unread ones."""
    show = _show(request.GET)
    notifications = notification_list_for_staff(staff=staff, unread_only=show == "unread")
    if wants_xlsx(request):
        return export_response(request, name="inbox", columns=INBOX_COLUMNS, rows=notifications)
    page = paginate(request, notifications)
    return render(request, "web/inbox.html", {"page": page, "show": show})


@require_POST
@staff_page()
def inbox_mark_read(request: HttpRequest, staff: Staff, notification_id: int) -> HttpResponse:
    """Mark one read. With htmx the row comes back in place, and the top bar's count with it."""
    try:
        notification = notification_mark_read(staff=staff, notification_id=notification_id)
    except NotFound as error:
        raise Http404(error.detail) from error
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/_inbox_row.html", {"note": notification, "show": _show(request.POST), "oob": True})
    return redirect(_back_to_inbox(request))


@require_POST
@staff_page()
def inbox_mark_all_read(request: HttpRequest, staff: Staff) -> HttpResponse:
    marked = notification_mark_all_read(staff=staff)
    if marked:
        messages.success(
            request,
            ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", marked)
            % {"count": marked},
        )
    return redirect(_back_to_inbox(request))


@staff_page()
def inbox_link(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The top bar's inbox link alone: it asks for itself every minute (htmx), so the count
    follows new notifications without a reload."""
    return render(request, "web/_inbox_link.html")


def _show(params) -> str:  # a QueryDict
    return "unread" if params.get("show") == "unread" else "all"


def _back_to_inbox(request: HttpRequest) -> str:
    """The inbox as the person left it. The form sends its filter and page as values,
    never an address, so there is nothing to check for an open redirect."""
    params = {}
    if _show(request.POST) == "unread":
        params["show"] = "unread"
    page = request.POST.get("page", "")
    if page.isdigit() and int(page) > 1:
        params["page"] = page
    return reverse("inbox") + (f"?{urlencode(params)}" if params else "")
