"""Front-desk forms. They only parse and render; the services validate."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taxservice.grids.models import ServicePoint
from taxservice.org.models import Branch
from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.validators import normalise_credit_code
from taxservice.web.forms import ServiceErrorsMixin
from taxservice.workflow.cases.models import REMOTE_CHANNELS, Channel, Scenario


class TaxpayerSearchForm(forms.Form):
    # Kept as typed (less the surrounding spaces, the full-width U+3000 among them): it may
    # be a name. taxpayer_search compares the code part in the canonical form
    # (normalise_credit_code), so "９１３３ ０１００ma…" finds 91330100MA….
    q = forms.CharField(
        label=_("Credit code or name"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "autofocus": True, "placeholder": _("e.g. 91330100… or part of the name")}
        ),
    )


class TaxpayerRegisterForm(ServiceErrorsMixin, forms.Form):
    # What was typed is put into the canonical form where that is unambiguous (spaces,
    # full-width, lower case: normalise_credit_code); the service then names whatever is
    # still wrong (length, other characters, check digit). The API takes no such liberty.
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        required=False,
        help_text=_(
            "18 characters, half-width digits and upper-case letters, exactly as printed on the business licence."
        ),
        widget=forms.TextInput(attrs={"required": "required", "autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"required": "required"}))
    competent_branch = forms.ChoiceField(label=_("Competent branch"), required=False)
    classification = forms.ChoiceField(
        label=_("Classification"), choices=Taxpayer.Classification.choices, initial=Taxpayer.Classification.SMALL_SCALE
    )
    grade = forms.ChoiceField(label=_("Credit grade"), choices=Taxpayer.Grade.choices, initial=Taxpayer.Grade.B)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        branches = Branch.objects.filter(kind=Branch.Kind.SOURCE).order_by("code").values_list("code", "name")
        self.fields["competent_branch"].choices = [("", "—")] + [(code, f"{name} ({code})") for code, name in branches]
        self.fields["competent_branch"].widget.attrs["required"] = "required"

    def clean_credit_code(self) -> str:
        return normalise_credit_code(self.cleaned_data["credit_code"])


class CaseOpenForm(ServiceErrorsMixin, forms.Form):
    """Channel, where the contact came in, and notes. The chosen items come as repeated `items`.

    Each intake field says for which channels it is meant (`data-channels`):
    static/js/channel-fields.js shows only those of the chosen channel and leaves the others
    out of the post. Without it every field shows, and the service names what does not fit.
    """

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.HALL_WINDOW)
    hall = forms.ChoiceField(label=_("Accepting hall"), required=False)
    service_point = forms.ChoiceField(label=_("Service point"), required=False)
    scenario = forms.ChoiceField(label=_("就近办 scenario"), required=False, choices=[("", "—"), *Scenario.choices])
    reference = forms.CharField(
        label=_("Call or ticket number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. 12366 call number")}),
    )
    notes = forms.CharField(
        label=_("Consultation notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What the taxpayer asked, materials brought…")}),
    )

    # Rendered by the chosen-items box, not as a widget; here so item errors have a place.
    items = forms.Field(label=_("Items asked for"), required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, halls: list[Branch], service_points: list[ServicePoint], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hall"].choices = [("", "—")] + [(hall.code, hall.name) for hall in halls]
        self.fields["service_point"].choices = [("", "—")] + [(point.code, point.name) for point in service_points]
        remote = " ".join(sorted(REMOTE_CHANNELS))
        for name, channels in (
            ("hall", Channel.HALL_WINDOW),
            ("service_point", Channel.SERVICE_POINT),
            ("scenario", Channel.SERVICE_POINT),
            ("reference", remote),
        ):
            self.fields[name].widget.attrs["data-channels"] = channels
