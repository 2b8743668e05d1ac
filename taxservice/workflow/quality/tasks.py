"""The closing loop's Celery task: thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.workflow.quality import services


@shared_task(
    name=scheduling.INSPECTION_DRAW, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3
)
def inspection_draw_weekly() -> int:
    """Draw last week's quality-inspection sample; returns the inspection's id.

    Safe to run twice: one inspection per week, and a rerun returns the one drawn.
    """
    return services.inspection_draw(actor=None).pk
