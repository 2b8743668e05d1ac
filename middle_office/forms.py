"""Filters of the middle-office queue."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.cases.models import TaskState
from taxservice.catalogue.models import HandlingList
from taxservice.org.models import Team, Tier

QUEUE_STATES = [TaskState.QUEUED, TaskState.ASSIGNED, TaskState.IN_PROGRESS]


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    handling_list = forms.ChoiceField(label=_("List"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False)

    def __init__(self, *args, teams: list[Team], **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["state"].choices = everything + [(state.value, state.label) for state in QUEUE_STATES]
        self.fields["team"].choices = everything + [(team.pk, team.name) for team in teams]
        self.fields["handling_list"].choices = everything + list(HandlingList.choices)
        self.fields["tier"].choices = everything + [
            (tier.value, tier.label) for tier in (Tier.MIDDLE, Tier.BACK, Tier.GRID)
        ]
