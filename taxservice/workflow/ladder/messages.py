"""What each ladder step tells its recipients, in the bureau's language.

The sentences are translated once per scan and handed to the set-based writer with
`{task}`, `{due}` and `{item}` placeholders (taxservice.workflow.sql.ladder_escalate).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from taxservice.workflow.ladder.models import Action

MESSAGES = {
    Action.REMIND: _("Reminder: task T%(task)s (%(item)s) is due at %(due)s."),
    Action.URGE: _("Urged (催办): task T%(task)s (%(item)s) was due at %(due)s and is overdue; please finish it."),
    Action.SUPERVISE: _("Supervision notice (督办): task T%(task)s (%(item)s) is overdue since %(due)s."),
    Action.NOTICE: _("Public notice (通报): task T%(task)s (%(item)s), overdue since %(due)s, is on the notice list."),
}
_PLACEHOLDERS = {"task": "{task}", "item": "{item}", "due": "{due}"}


def ladder_templates() -> dict[str, str]:
    """Each action's sentence in the bureau's language (LANGUAGE_CODE), with placeholders."""
    with translation.override(settings.LANGUAGE_CODE):
        return {str(action): str(text) % _PLACEHOLDERS for action, text in MESSAGES.items()}
