"""Sub-tasks (一问联办) on the task page: the parent's link, the sub-tasks with their teams,
holders, states and results, and the form that opens one.

The task page's view adds `subtask_panel`; the form posts to `subtask_open`, which calls
`workflow.cases.services.subtask_open` (the API's service too) and goes back to the task
page; a refusal shows the form again with its messages and what was typed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from taxservice.errors import ServiceError
from taxservice.org.models import Staff, Team
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.workflow.cases import policy, selectors, services
from taxservice.workflow.cases.models import Task


class SubtaskForm(ServiceErrorsMixin, forms.Form):
    team = forms.ChoiceField(label=gettext_lazy("Team that takes it"), required=False)
    note = forms.CharField(
        label=gettext_lazy("What the other team must do"),
        max_length=services.SUBTASK_NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Time limit (working days)"),
        min_value=1,
        max_value=services.SUBTASK_MAX_DAYS,
        required=False,
        help_text=gettext_lazy("Empty: the item's handling limit."),
    )

    def __init__(self, *args, task: Task, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = (
            Team.objects.filter(Q(tier__in=services.SUBTASK_TEAM_TIERS) | Q(kind=Team.Kind.DEPARTMENT))
            .exclude(pk=task.team_id)
            .select_related("branch")
            .order_by("branch__code", "code")
        )
        self.fields["team"].choices = [("", "—")] + [(team.code, f"{team.branch.name} · {team.name}") for team in teams]


def subtask_panel(*, staff: Staff, task: Task, form: SubtaskForm | None = None) -> dict:
    """The parent (for a sub-task), the sub-tasks with their results, and the form for the
    holder or a supervisor while the work is under way."""
    may_open = task.state in services.SUBTASK_PARENT_STATES and policy.subtask_denial(staff, task) is None
    if may_open and form is None:
        form = SubtaskForm(task=task)
    return {
        "parent": task.parent,
        "subtasks": selectors.subtasks_of(staff=staff, task=task),
        "form": form if may_open else None,
    }


@require_POST
@staff_page()
def subtask_open(request: HttpRequest, staff: Staff, task_id: int) -> HttpResponse:
    task = selectors.task_get_for_staff(staff=staff, task_id=task_id)
    if task is None:
        raise Http404(_("No such task, or it is not visible to you."))
    form = SubtaskForm(request.POST, task=task)
    if form.is_valid():
        data = form.cleaned_data
        try:
            sub = services.subtask_open(
                actor=staff, parent_id=task.pk, team_code=data["team"], note=data["note"], days=data["days"]
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Sub-task T%(id)s opened for %(team)s.") % {"id": sub.pk, "team": sub.team})
            return redirect(reverse("task_detail", args=[task.pk]) + "#subtasks")
    context = {"task": task, "subtasks": subtask_panel(staff=staff, task=task, form=form)}
    return render(request, "web/subtask_open.html", context, status=400)
