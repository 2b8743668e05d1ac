"""The public notice list page (通报): the escalation ladder's last step, for supervisors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taxservice import access
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.queries import paginate
from taxservice.workflow.ladder.selectors import notice_list_for_staff


@staff_page(access.can_see_notices)
def notices(request: HttpRequest, staff: Staff) -> HttpResponse:
    page = paginate(request, notice_list_for_staff(staff=staff))
    return render(request, "web/notices.html", {"page": page})
