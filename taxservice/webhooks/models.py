"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from taxservice.org.models import Staff


class Event(models.TextChoices):
    TASK_STATE_CHANGED = "task.state_changed", _("task state changed")
    CASE_CLOSED = "case.closed", _("case closed")
    REPORT_READY = "report.ready", _("report ready")


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the events it wants. The secret signs every delivery;
    it is shown once, in the answer to the creation."""

    owner = models.ForeignKey(Staff, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, help_text=_("Event types delivered to this URL."))
    secret = models.CharField(_("secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent to one subscription, with its attempts. Every attempt carries the same
    `event_id` (the `X-Taxservice-Delivery` header), so a receiver drops duplicates; a replay
    is a new delivery of the same event (`replay_of`)."""

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("event id"), db_index=True)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(
        _("given up at"), null=True, blank=True, help_text=_("Set after the last attempt failed.")
    )
    replay_of = models.ForeignKey(
        "self", verbose_name=_("replay of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.failed_at is not None:
            return "failed"
        return "pending"
