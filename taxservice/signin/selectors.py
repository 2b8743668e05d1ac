"""Reads for the tokens page and the authentication."""

from __future__ import annotations

from django.db.models import QuerySet

from taxservice.org.models import Staff
from taxservice.signin.models import ApiToken, ApiTokenEvent, key_hash


def token_list() -> QuerySet[ApiToken]:
    """Every token, newest first, with its owner's and creator's names."""
    return ApiToken.objects.select_related("user", "user__staff", "created_by", "created_by__staff").order_by(
        "-created_at", "-id"
    )


def token_for_key(key: str) -> ApiToken | None:
    """The token whose key this is (looked up by its hash), usable or not."""
    return ApiToken.objects.select_related("user").filter(key_hash=key_hash(key)).first()


def token_revocations(*, token_ids: list[int]) -> dict[int, ApiTokenEvent]:
    events = ApiTokenEvent.objects.filter(token_id__in=token_ids, event=ApiTokenEvent.Event.REVOKED)
    return {event.token_id: event for event in events.select_related("actor")}


def token_owner_choices() -> QuerySet[Staff]:
    """Who may hold a token: active staff accounts, API-only accounts first in the form."""
    return Staff.objects.select_related("user").filter(user__is_active=True).order_by("user__username")
