"""The idempotency records' Celery task: thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.idempotency import services


@shared_task(name=scheduling.IDEMPOTENCY_PURGE, acks_late=True)
def idempotency_purge() -> int:
    """Delete the idempotency records past their 24 hours. Returns how many."""
    return services.purge_expired()
