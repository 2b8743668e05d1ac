from rest_framework.permissions import BasePermission

from taxservice.org.selectors import staff_for_user


class IsStaff(BasePermission):
    """Every endpoint needs an authenticated user with a staff record."""

    message = "Your account has no staff record; ask an administrator."

    def has_permission(self, request, view) -> bool:
        return staff_for_user(request.user) is not None


def request_staff(request):
    return staff_for_user(request.user)
