"""API authentication by the integrators' tokens (taxservice.signin.models.ApiToken).

`Authorization: Bearer <key>`, or `Authorization: Token <key>` as the earlier DRF tokens
were sent, so existing clients keep working with a new key. A missing, unknown, expired or
revoked key, or a deactivated account, answers 401; a read-only token answers 403 with
code `token_scope` to anything but GET, HEAD and OPTIONS.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from taxservice.signin.models import ApiToken
from taxservice.signin.selectors import token_for_key
from taxservice.signin.services import token_touch

KEYWORDS = ("bearer", "token")


class TokenScopeDenied(exceptions.PermissionDenied):
    default_detail = _("This token is read-only: it may only read (GET).")
    default_code = "token_scope"


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give one key after the keyword."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = token_for_key(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if not token.is_usable:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if token.scope != ApiToken.Scope.WRITE and request.method not in SAFE_METHODS:
            raise TokenScopeDenied()
        token_touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
