"""Translated labels for codes the models store as plain strings."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# The service's error `fields`, and the form fields they land on.
FIELD_LABELS = {
    "reason": _("Reason"),
    "result": _("Result"),
    "assignee": _("Assignee"),
    "channel": _("Channel"),
    "items": _("Items"),
    "taxpayer": _("Taxpayer"),
    "hall": _("Hall"),
    "credit_code": _("Unified social credit code"),
    "name": _("Name"),
    "competent_branch": _("Competent branch"),
    "classification": _("Classification"),
    "grade": _("Grade"),
    "team": _("Team"),
}


# The dispatch pipeline's filters (routing.models.FILTER_NAMES), in the people's words.
FILTER_LABELS = {
    "membership": _("Handling role"),
    "on_duty": _("On duty"),
    "capacity": _("Capacity"),
    "conflict": _("Conflict of interest (回避)"),
    "rotation": _("Rotation"),
}


def filter_label(name: str) -> str:
    return str(FILTER_LABELS.get(name, name))


# taxservice.taxpayers.services raises these as plain (untranslated) English. Listed here
# so makemessages keeps them in the catalogue and `service_message` can translate them;
# drop this list once that module wraps its messages in gettext itself.
UNWRAPPED_CORE_MESSAGES = (
    gettext_noop("Your roles do not allow registering taxpayers."),
    gettext_noop("A name is required."),
    gettext_noop("A taxpayer with this credit code is already registered."),
    gettext_noop("The taxpayer was not registered."),
)


def service_message(message: str) -> str:
    """A service's message in the active language: already translated ones pass unchanged."""
    return gettext(message) if message in UNWRAPPED_CORE_MESSAGES else message
