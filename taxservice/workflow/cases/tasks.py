"""Celery tasks of the core. Thin: they take ids, are idempotent, and call services."""

from __future__ import annotations

from celery import shared_task

from taxservice import scheduling
from taxservice.workflow.cases import clocks, notifications


@shared_task(
    name=scheduling.NOTIFY_TRANSITION, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def notify_transition(transition_id: int) -> int:
    """Write the notifications a committed transition calls for. Returns how many were new."""
    return notifications.notify_for_transition(transition_id=transition_id)


@shared_task(
    name=scheduling.NOTIFY_TRANSITIONS, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def notify_transitions(transition_ids: list[int]) -> int:
    """Kept for one release: messages queued by the robot before it wrote its notifications
    in the batch (docs/decisions.md §4) must still find a worker that handles them.
    Idempotent, like notify_transition. Remove once no such message can be waiting."""
    return sum(notifications.notify_for_transition(transition_id=pk) for pk in transition_ids)


@shared_task(name=scheduling.RECOMPUTE_CLOCKS, acks_late=True)
def recompute_clocks(run_id: int) -> int:
    """Recompute the open tasks' due times for one ClockRecompute row (clocks.recompute).
    Idempotent: a redelivered run checks again and moves nothing more."""
    return clocks.recompute(run_id).moved
