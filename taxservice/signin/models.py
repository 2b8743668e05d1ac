"""Sign-in events (append-only) and the integrators' API tokens, stored only as hashes."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly

PREFIX_LENGTH = 8


def key_hash(key: str) -> str:
    """What is stored for a key: its SHA-256. A key is 256 random bits, so no salt or
    slow hash is needed; the key itself is shown once at creation and never stored."""
    return hashlib.sha256(key.encode()).hexdigest()


class SignInEvent(AppendOnly):
    """One sign-in, sign-out, failed or locked-out attempt on the web sign-in."""

    class Event(models.TextChoices):
        SIGNED_IN = "signed_in", _("signed in")
        SIGNED_OUT = "signed_out", _("signed out")
        FAILED = "failed", _("failed sign-in")
        LOCKED_OUT = "locked_out", _("locked out")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username tried"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.event} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """An API token of one account. Only `prefix` (shown to people) and `key_hash` are
    stored; revoking sets `revoked_at`, the row stays for the record."""

    class Scope(models.TextChoices):
        READ = "read", _("read only")
        WRITE = "write", _("read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @property
    def is_usable(self) -> bool:
        return self.state == "active"


class ApiTokenEvent(AppendOnly):
    """A token's creation or revocation: who, when, and for revocation why."""

    class Event(models.TextChoices):
        CREATED = "created", _("created")
        REVOKED = "revoked", _("revoked")

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="events", verbose_name=_("API token"))
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("API token event")
        verbose_name_plural = _("API token events")
        ordering = ["at", "id"]
