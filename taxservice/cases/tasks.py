"""Celery tasks of the core. Thin: they take ids, are idempotent, and call services."""

from __future__ import annotations

from celery import shared_task

from taxservice.cases import notifications


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def notify_transition(transition_id: int) -> int:
    """Write the notifications a committed transition calls for. Returns how many were new."""
    return notifications.notify_for_transition(transition_id=transition_id)

