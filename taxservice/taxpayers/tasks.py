"""Celery tasks of the taxpayers app. Thin: they take ids, are idempotent, and call services."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.taxpayers import classification_services


@shared_task(name=scheduling.CLASSIFY_TAXPAYERS, acks_late=True)
def classify_taxpayers(run_id: int) -> int:
    """Run one ClassificationRun (classification_services.classification_run). Idempotent: a
    redelivered run rewrites nothing that is already right."""
    return classification_services.classification_run(run_id=run_id).changed
