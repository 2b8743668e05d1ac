"""Middle office (中台): the queue of transferred tasks, and taking them on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from taxservice.org.models import Staff, Team
from taxservice.web.access import QUEUE_ROLES, staff_page
from taxservice.web.queries import attach_actions, paginate, queue_for_staff

from .forms import QueueFilterForm


@staff_page(QUEUE_ROLES)
def queue(request: HttpRequest, staff: Staff) -> HttpResponse:
    tasks = queue_for_staff(staff=staff)
    teams = list(Team.objects.filter(pk__in=tasks.values("team_id")).order_by("name"))
    filters = QueueFilterForm(request.GET or None, teams=teams)
    if filters.is_valid():
        data = filters.cleaned_data
        if data["state"]:
            tasks = tasks.filter(state=data["state"])
        if data["team"]:
            tasks = tasks.filter(team_id=data["team"])
        if data["handling_list"]:
            tasks = tasks.filter(item__handling_list=data["handling_list"])
        if data["tier"]:
            tasks = tasks.filter(tier=data["tier"])
    page = paginate(request, tasks.order_by("due_at", "id"))
    attach_actions(staff=staff, tasks=page.object_list)
    return render(request, "middle_office/queue.html", {"page": page, "filters": filters})
