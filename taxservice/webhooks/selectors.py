"""Webhook reads: a user's own subscriptions and their deliveries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from taxservice.access import can_use_webhooks, require
from taxservice.errors import NotFound
from taxservice.org.models import Staff
from taxservice.webhooks.models import WebhookDelivery, WebhookSubscription


def subscription_list(*, actor: Staff) -> QuerySet[WebhookSubscription]:
    """The caller's subscriptions, newest first (deleted ones included, marked inactive)."""
    require(can_use_webhooks, actor)
    return WebhookSubscription.objects.filter(owner=actor).order_by("-id")


def delivery_list(*, actor: Staff, subscription_id: int) -> QuerySet[WebhookDelivery]:
    """One of the caller's subscriptions' deliveries, newest first; anyone else's is 404."""
    require(can_use_webhooks, actor)
    if not WebhookSubscription.objects.filter(owner=actor, pk=subscription_id).exists():
        raise NotFound(_("No such webhook subscription."), code="not_found")
    return WebhookDelivery.objects.filter(subscription_id=subscription_id).order_by("-id")
