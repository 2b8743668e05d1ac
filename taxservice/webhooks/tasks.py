"""The webhooks' Celery task: thin and idempotent (a delivered delivery is left alone)."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.webhooks import services


@shared_task(name=scheduling.WEBHOOK_DELIVER, acks_late=True)
def deliver(delivery_id: int) -> str:
    """Attempt one webhook delivery; a failure schedules the next attempt through the outbox."""
    return services.deliver(delivery_id)
