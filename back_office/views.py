"""Back office (后台): the approval queue of branch chiefs and coordinators."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taxservice import access
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.queries import attach_actions, awaiting_approval_for_staff, paginate


@staff_page(access.can_use_approvals)
def approvals(request: HttpRequest, staff: Staff) -> HttpResponse:
    page = paginate(request, awaiting_approval_for_staff(staff=staff))
    attach_actions(staff=staff, tasks=page.object_list)
    return render(request, "back_office/approvals.html", {"page": page})
