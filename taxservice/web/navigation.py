"""Navigation and the access rules for every page (a context processor)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from taxservice import access
from taxservice.org.models import Role
from taxservice.org.selectors import staff_for_user
from taxservice.workflow.nearby import policy as nearby_policy

# (url name, label, the page's rule; None means everyone with a staff record). The same
# rules guard the pages themselves (`staff_page(rule)`).
NAVIGATION: list[tuple[str, object, access.Rule | None]] = [
    ("home", _("Home"), None),
    ("frontdesk:consult", _("Front desk"), access.can_use_front_desk),
    ("frontdesk:feedback", _("Feedback worklist"), access.can_use_front_desk),
    ("middle_office:queue", _("Middle office queue"), access.can_use_queue),
    ("middle_office:hub", _("Coordination hub"), access.can_use_hub),
    ("back_office:approvals", _("Approval queue"), access.can_use_approvals),
    ("back_office:desk", _("Chief's desk"), access.can_use_desk),
    ("teams", _("Teams"), access.can_add_teams),
    ("notices", _("Notice list"), access.can_see_notices),
    ("quality_inspections", _("Quality sampling"), access.can_inspect_quality),
    ("quality_rectifications", _("Rectifications"), access.can_see_rectifications),
    ("my_tasks", _("My tasks"), None),
    ("case_list", _("Cases"), None),
    ("calendar", _("Calendar"), None),
    ("grid:grids", _("Grids"), access.can_see_grids),
    ("visits", _("Visits"), nearby_policy.can_use_visits),
    ("collections", _("Collected materials"), nearby_policy.can_use_collections),
    ("service_points", _("Service points"), None),
    ("classification", _("Classification"), access.is_admin),
    ("ops_status", _("Operations"), access.is_admin),
    ("api_tokens", _("API tokens"), access.is_admin),
]


def staff_navigation(request: HttpRequest) -> dict:
    """`staff`, their role labels, the navigation they may use, and `access`: every named
    rule's answer for them, so templates ask `{% if access.can_use_front_desk %}`."""
    staff = staff_for_user(getattr(request, "user", None))
    if staff is None:
        return {"staff": None, "staff_roles": [], "navigation": [], "access": {}}
    entries = []
    for name, label, rule in NAVIGATION:
        if rule is not None and not rule(staff):
            continue
        url = reverse(name)
        # A section stays highlighted on its sub-pages; the home page only on itself.
        matches = request.path == url or (url != "/" and request.path.startswith(url))
        entries.append({"url": url, "label": label, "active": matches})
    # Sections nest (/middle-office/ and /middle-office/hub/): only the closest one is lit.
    lit = [entry for entry in entries if entry["active"]]
    if len(lit) > 1:
        closest = max(lit, key=lambda entry: len(entry["url"]))
        for entry in lit:
            entry["active"] = entry is closest
    roles = [Role(code).label for code in Role.values if code in staff.roles]
    return {"staff": staff, "staff_roles": roles, "navigation": entries, "access": access.rules_for(staff)}
