"""The escalation ladder's Celery task: thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.workflow.ladder import services


@shared_task(name=scheduling.LADDER_SCAN, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def ladder_scan() -> int:
    """Send every ladder step that is due and not sent yet. Returns how many were sent.

    Safe to run twice, or on two workers at once: each (task, step, due time) is sent once.
    """
    return services.ladder_scan().sent
