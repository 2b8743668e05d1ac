"""The chief's desk's forms: they parse; the services (workflow.cases.desk) decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.web.forms import ServiceErrorsMixin
from taxservice.workflow.cases.desk import DELEGATION_REASON_MAX, REMINDER_MAX_CHARS

LOCAL_MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DelegationForm(ServiceErrorsMixin, forms.Form):
    """A chief names a deputy while away (the panel on the desk)."""

    deputy = forms.ModelChoiceField(label=_("Deputy"), queryset=None, empty_label=_("Choose a person…"))
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=LOCAL_MOMENT, input_formats=["%Y-%m-%dT%H:%M"])
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=LOCAL_MOMENT, input_formats=["%Y-%m-%dT%H:%M"])
    reason = forms.CharField(label=_("Reason"), max_length=DELEGATION_REASON_MAX)

    def __init__(self, *args, candidates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = candidates
        self.fields["deputy"].label_from_instance = lambda person: f"{person.name} · {person.home_branch.name}"


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=DELEGATION_REASON_MAX)


class ReminderForm(ServiceErrorsMixin, forms.Form):
    """催办 / 督办 on the task page."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("urge", _("Urge (催办)")), ("supervise", _("Supervision notice (督办)"))]
    )
    message = forms.CharField(
        label=_("Message to the holder"),
        max_length=REMINDER_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def ids_from(values: list[str]) -> list[int]:
    """The ticked rows' task ids; anything that is not a number is left out."""
    return [int(value) for value in values if value.isdigit()]
