"""One row per follow-up message: a Celery task by name with its arguments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A Celery task to publish once the transaction that wrote it has committed.

    Pending while `sent_at` is null. `available_at` is the earliest the relay may publish it
    (pushed back after each failed attempt); `locked_until` is the lease of whoever is
    publishing it right now, so two relays (or a relay and a nudge) never publish it twice,
    and a publisher that died releases it when the lease ends.
    """

    task_name = models.CharField(_("task name"), max_length=200)
    args = models.JSONField(_("positional arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    dedupe_key = models.CharField(
        _("de-duplication key"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("While a message with this key waits, another one with the same key is not added."),
    )
    created_at = models.DateTimeField(_("created at"))
    available_at = models.DateTimeField(_("available at"))
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at"], condition=Q(sent_at__isnull=True), name="outbox_pending_by_available"
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(sent_at__isnull=True) & ~Q(dedupe_key=""),
                name="outbox_one_pending_per_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"
