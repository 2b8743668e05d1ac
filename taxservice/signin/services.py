"""Creating and revoking API tokens: each inside a transaction, with an audit row."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.errors import InvalidInput, NotFound
from taxservice.org.models import Staff
from taxservice.signin.models import PREFIX_LENGTH, ApiToken, ApiTokenEvent, key_hash

MAX_DAYS = 366
NAME_MAX = 100


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    key: str  # the plain key: shown once to whoever created it, never stored


def _new_key() -> str:
    # 40 URL-safe characters (240 random bits); the first 8 are the prefix people see.
    return secrets.token_urlsafe(30)


def token_create(
    *,
    actor: Staff | None,
    owner: Staff,
    name: str,
    scope: str,
    days: int | None = None,
) -> CreatedToken:
    """A new token for `owner`. `actor` is the administrator (None: the operations command)."""
    if actor is not None:
        access.require(access.is_admin, actor)
    name = (name or "").strip()
    days = settings.TAXSERVICE_API_TOKEN_DAYS if days is None else days
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the token a name, such as the system that uses it.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("At most %(count)d characters.") % {"count": NAME_MAX}]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [_("Choose read or write.")]
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("A token lasts from 1 to %(days)d days.") % {"days": MAX_DAYS}]
    if not owner.user.is_active:
        errors["owner"] = [_("This account is deactivated.")]
    if errors:
        raise InvalidInput(_("The token was not created."), code="invalid", fields=errors)
    key = _new_key()
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner.user,
            name=name,
            prefix=key[:PREFIX_LENGTH],
            key_hash=key_hash(key),
            scope=scope,
            created_by=actor.user if actor is not None else None,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        ApiTokenEvent.objects.create(
            token=token, event=ApiTokenEvent.Event.CREATED, actor=token.created_by, reason="", at=now
        )
    return CreatedToken(token=token, key=key)


def token_revoke(*, actor: Staff | None, token_id: int, reason: str) -> ApiToken:
    """Revoke a token for good, saying why. Revoking twice is refused (nothing to do)."""
    if actor is not None:
        access.require(access.is_admin, actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the token is revoked."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound(_("No such token."))
        if token.revoked_at is not None:
            raise InvalidInput(_("This token is already revoked."), code="already_revoked")
        now = timezone.now()
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        ApiTokenEvent.objects.create(
            token=token,
            event=ApiTokenEvent.Event.REVOKED,
            actor=actor.user if actor is not None else None,
            reason=reason,
            at=now,
        )
    return token


def token_touch(token: ApiToken, *, every_seconds: int = 60) -> None:
    """Note a token's use, at most once a minute (one small write, not one per request)."""
    now = timezone.now()
    if token.last_used_at is not None and (now - token.last_used_at).total_seconds() < every_seconds:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
