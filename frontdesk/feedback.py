"""The front desk's feedback worklist: finished tasks waiting for feedback to the taxpayer.

Giving feedback is the `give_feedback` transition (its own record: what was told and by
which channel; the back office's result is kept and shown beside it).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.web.access import staff_page
from taxservice.web.queries import paginate
from taxservice.workflow.cases.models import Channel, TaskState
from taxservice.workflow.cases.selectors import task_get_for_staff
from taxservice.workflow.cases.services import task_transition
from taxservice.workflow.quality import selectors


@staff_page(access.can_use_front_desk)
def feedback_worklist(request: HttpRequest, staff: Staff) -> HttpResponse:
    page = paginate(request, selectors.feedback_worklist(staff=staff))
    return render(request, "frontdesk/feedback_worklist.html", {"page": page, "channels": Channel.choices})


@require_POST
@staff_page(access.can_use_front_desk)
def feedback_give(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    if task_get_for_staff(staff=staff, task_id=task_id) is None:
        raise Http404(_("No such task, or it is not visible to you."))
    back = reverse("frontdesk:feedback") + (
        f"?page={request.GET['page']}" if request.GET.get("page", "").isdigit() else ""
    )
    try:
        task = task_transition(
            task_id=task_id,
            actor=staff,
            name="give_feedback",
            result=request.POST.get("result", ""),
            channel=request.POST.get("channel", ""),
            expected_state=TaskState.DONE,
        )
    except ServiceError as error:
        messages.error(request, _("T%(task)s: %(detail)s") % {"task": task_id, "detail": error.detail})
        return redirect(back)
    messages.success(request, _("Feedback given on T%(task)s.") % {"task": task.pk})
    if task.case_id is not None:
        return redirect(reverse("case_detail", args=[task.case_id]) + "#quality")
    return redirect(back)
