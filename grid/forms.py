"""Forms of the grid pages: input shapes only; the services check the rest."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.taxpayers.models import Taxpayer


class GridTasksForm(forms.Form):
    """A coordinator's selection of a grid's taxpayers, and the grid item to give each a task for."""

    item = forms.ChoiceField(label=_("Item"))
    grades = forms.MultipleChoiceField(
        label=_("Grades"), required=False, widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every grade.")
    )
    classifications = forms.MultipleChoiceField(
        label=_("Classifications"),
        required=False,
        choices=Taxpayer.Classification.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every classification."),
    )
    credit_codes = forms.CharField(
        label=_("Only these credit codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: one per line, or separated by spaces or commas."),
    )
    notes = forms.CharField(label=_("Notes for the group"), required=False, max_length=500)

    def __init__(self, *args, items, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(item.code, f"{item.code} {item.name}") for item in items]
        self.fields["grades"].choices = grades

    def clean_credit_codes(self) -> list[str]:
        return [code for code in re.split(r"[\s,，;；]+", self.cleaned_data.get("credit_codes", "")) if code]


class GridImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose a file to upload.")},
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class TaxpayerGridForm(forms.Form):
    grid = forms.ChoiceField(label=_("Grid"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", _("— no grid —")), *[(g.code, f"{g.code} {g.name}") for g in grids]]


class RulesApplyForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Taxpayers"),
        choices=[("unassigned", _("Taxpayers without a grid")), ("all", _("Every matching taxpayer"))],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
