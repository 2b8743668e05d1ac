from rest_framework.permissions import BasePermission

from taxservice.org.selectors import staff_for_user


class IsStaff(BasePermission):
    """Every endpoint needs an authenticated user with a staff record."""

    message = "Your account has no staff record; ask an administrator."

    def has_permission(self, request, view) -> bool:
        return staff_for_user(request.user) is not None


def request_staff(request):
    return staff_for_user(request.user)


def requires(rule):
    """A DRF permission class from one of the access policy's named rules (taxservice/access.py):
    the same rule the matching page asks, so the API shows no more than the web."""

    class RulePermission(IsStaff):
        message = str(rule.refusal)

        def has_permission(self, request, view) -> bool:
            return rule(staff_for_user(request.user))

    RulePermission.__name__ = f"Requires_{rule.name}"
    return RulePermission
