"""Who may open which page: login, a staff record, and the page's rule from taxservice.access."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.access import Rule
from taxservice.org.models import Role, Staff
from taxservice.org.selectors import staff_for_user


def staff_page(rule: Rule | None = None) -> Callable:
    """Decorate a view `view(request, staff, ...)`: login, a staff record and the page's `rule`.

    Anonymous users go to the login page; a user without a staff record, or who fails
    the rule, gets the 403 page with a sentence saying who the page is for.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            staff = request_staff(request)
            if not access.can_use_web(staff):
                raise PermissionDenied(access.WEB_REFUSAL)
            if rule is not None and not rule(staff):
                labels = get_text_list([str(label) for code, label in Role.choices if code in rule.roles], _("or"))
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
