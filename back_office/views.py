"""Back office (后台): the approval queue of branch chiefs and coordinators."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taxservice import access
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.export import export_response, task_columns, wants_xlsx
from taxservice.web.queries import attach_actions, awaiting_approval_for_staff, paginate
from taxservice.web.sorting import TASK_SORTS, sort_parse


@staff_page(access.can_use_approvals)
def approvals(request: HttpRequest, staff: Staff) -> HttpResponse:
    sort = sort_parse(request.GET.get("sort"), allowed=TASK_SORTS)
    tasks = sort.apply(awaiting_approval_for_staff(staff=staff))
    if wants_xlsx(request):
        return export_response(request, name="approvals", columns=task_columns(), rows=tasks)
    page = paginate(request, tasks)
    attach_actions(staff=staff, tasks=page.object_list)
    return render(request, "back_office/approvals.html", {"page": page, "sort": sort.value})
