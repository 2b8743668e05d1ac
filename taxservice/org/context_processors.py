"""Navigation by role for every page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from taxservice.org.models import Role
from taxservice.org.selectors import staff_for_user

# (url name, label, roles that see it; empty means everyone with a staff record)
NAVIGATION = [
    ("home", _("Home"), ()),
    ("frontdesk:consult", _("Front desk"), (Role.CLERK, Role.ADMIN)),
    ("middle_office:queue", _("Middle office queue"), (Role.COORDINATOR, Role.TEAM_MEMBER, Role.EXPERT, Role.ADMIN)),
    ("middle_office:hub", _("Coordination hub"), (Role.COORDINATOR, Role.ADMIN)),
    ("back_office:approvals", _("Approval queue"), (Role.BRANCH_CHIEF, Role.COORDINATOR, Role.ADMIN)),
    ("my_tasks", _("My tasks"), ()),
    ("case_list", _("Cases"), ()),
]


def staff_navigation(request) -> dict:  # noqa: ANN001
    staff = staff_for_user(getattr(request, "user", None))
    if staff is None:
        return {"staff": None, "staff_roles": [], "navigation": []}
    entries = []
    for name, label, roles in NAVIGATION:
        if roles and not staff.has_role(*roles):
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
    return {"staff": staff, "staff_roles": roles, "navigation": entries}
