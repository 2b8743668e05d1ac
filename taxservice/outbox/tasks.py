"""The outbox's Celery tasks (beat): thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from taxservice.outbox import services


@shared_task(name=services.OUTBOX_RELAY)
def relay() -> int:
    """Publish the due outbox messages. Returns how many were sent. Safe to overlap."""
    return services.relay().sent


@shared_task(name=services.OUTBOX_PURGE)
def purge() -> int:
    """Delete the messages sent more than TAXSERVICE_OUTBOX_RETENTION_DAYS ago."""
    return services.purge_sent()
