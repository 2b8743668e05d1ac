"""Back office (后台): the approval queue of branch chiefs and coordinators, and the
extension requests branch chiefs decide on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taxservice import access
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.export import export_response, task_columns, wants_xlsx
from taxservice.web.filters import APPROVAL_FILTERS, filters_parse
from taxservice.web.queries import (
    attach_actions,
    awaiting_approval_for_staff,
    extension_requests_for_staff,
    paginate,
)
from taxservice.web.sorting import TASK_SORTS, sort_parse

APPROVALS = "approvals"
EXTENSIONS = "extensions"


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
    }
    return render(request, "back_office/approvals.html", context)
