"""The branch's back-office teams and custom teams (专属团队): `/teams/`.

For a branch chief (their branch scope) and an administrator: every back-office team of those
branches with its members, and a form to add a custom team with its name and members
(`routing.teams.team_create`, which checks, writes and audits). Items reach a custom team
through a routing rule with the target “the team the rule names” (the rules editor).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice import access
from taxservice.errors import ServiceError
from taxservice.org.models import Branch, Staff
from taxservice.web.access import staff_page
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.web.queries import paginate
from taxservice.workflow.routing import teams


class TeamForm(ServiceErrorsMixin, forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=gettext_lazy("Branch"), to_field_name="code")
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=teams.NAME_MAX)
    members = forms.ModelMultipleChoiceField(
        queryset=Staff.objects.none(),
        label=gettext_lazy("Team members"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Staff of the branch."),
    )

    def __init__(self, *args, actor: Staff, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        branches = teams.branches_for_teams(actor=actor)
        self.fields["branch"].queryset = branches
        self.fields["members"].queryset = Staff.objects.filter(home_branch__in=branches).order_by("home_branch", "name")
        self.fields["members"].label_from_instance = lambda person: f"{person.name} · {person.home_branch.name}"
        if not actor.has_role(access.R.ADMIN):
            self.fields["branch"].initial = actor.home_branch.code


def _render(request: HttpRequest, staff: Staff, form: TeamForm, status: int = 200) -> HttpResponse:
    page = paginate(request, teams.team_list(actor=staff))
    return render(request, "web/teams.html", {"page": page, "form": form}, status=status)


@staff_page(access.can_add_teams)
def teams_page(request: HttpRequest, staff: Staff) -> HttpResponse:
    if request.method != "POST":
        return _render(request, staff, TeamForm(actor=staff))
    form = TeamForm(request.POST, actor=staff)
    if not form.is_valid():
        return _render(request, staff, form, status=400)
    data = form.cleaned_data
    try:
        team = teams.team_create(
            actor=staff, branch=data["branch"].code, name=data["name"], members=[p.pk for p in data["members"]]
        )
    except ServiceError as error:
        form.add_service_error(error)
        return _render(request, staff, form, status=400)
    messages.success(request, _("Team %(name)s is added.") % {"name": team.name})
    return HttpResponseRedirect(reverse("teams"))
