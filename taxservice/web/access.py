"""Who may open which page: login, a staff record, and the page's roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from taxservice.org.models import Role, Staff
from taxservice.org.selectors import staff_for_user

FRONT_DESK_ROLES = (Role.CLERK, Role.ADMIN)
QUEUE_ROLES = (Role.COORDINATOR, Role.TEAM_MEMBER, Role.EXPERT, Role.ADMIN)
APPROVAL_ROLES = (Role.BRANCH_CHIEF, Role.COORDINATOR, Role.ADMIN)


def staff_page(roles: Iterable[str] = ()) -> Callable:
    """Decorate a view `view(request, staff, ...)`: login, a staff record and one of `roles`.

    Anonymous users go to the login page; a user without a staff record, or without
    any of the page's roles, gets the 403 page with a sentence saying why.
    """
    roles = tuple(roles)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
            staff = request_staff(request)
            if roles and not staff.has_role(*roles):
                labels = get_text_list([str(Role(role).label) for role in roles], _("or"))
                raise PermissionDenied(_("This page is only for: %(roles)s.") % {"roles": labels})
            return view(request, staff, *args, **kwargs)

        return wrapper

    return decorator


def request_staff(request: HttpRequest) -> Staff:
    staff = staff_for_user(request.user)
    if staff is None:
        raise PermissionDenied(
            _("Your account has no staff record, so it cannot use the platform. Ask an administrator to add one.")
        )
    return staff
