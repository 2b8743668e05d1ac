"""The quality inspector's checklist: a small fixed list, in code (pure).

Each sampled task is scored against every check, pass or fail; the task passes when all
checks pass. Changing the list changes what new results hold; stored results keep the
codes they were scored with.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Check:
    code: str
    label: Promise


CHECKS: tuple[Check, ...] = (
    Check("on_time", _("Done within the time limit")),
    Check("result_clear", _("Result recorded and clear")),
    Check("feedback_given", _("Feedback given to the taxpayer")),
    Check("materials_complete", _("Materials complete")),
    Check("correct_team", _("Handled by the right team")),
)
CHECK_CODES: tuple[str, ...] = tuple(check.code for check in CHECKS)


def label(code: str) -> str:
    for check in CHECKS:
        if check.code == code:
            return str(check.label)
    return code
