"""Reads on the organisation."""

from __future__ import annotations

from taxservice.org.models import Staff


def staff_for_user(user) -> Staff | None:  # noqa: ANN001
    """The staff record of a logged-in user, with roles, teams and branch loaded once."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_staff_cache", None)
    if cached is not None:
        return cached
    staff = (
        Staff.objects.select_related("home_branch", "home_branch__parent")
        .prefetch_related("role_rows", "teams")
        .filter(user=user)
        .first()
    )
    user._staff_cache = staff
    return staff
