"""Reads on the organisation."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from taxservice.org.models import Staff


def staff_for_user(user: User | AnonymousUser | None) -> Staff | None:
    """The staff record of a logged-in user, with roles, teams and branch loaded once."""
    if user is None or not user.is_authenticated:
        return None
    cached: Staff | None = getattr(user, "_staff_cache", None)
    if cached is not None:
        return cached
    staff = (
        Staff.objects.select_related("home_branch", "home_branch__parent")
        .prefetch_related("role_rows", "teams")
        .filter(user=user)
        .first()
    )
    # A cache for the rest of the request, on the request's own user object.
    user._staff_cache = staff  # type: ignore[attr-defined]
    return staff
