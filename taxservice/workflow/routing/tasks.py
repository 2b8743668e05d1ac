"""The auto-dispatch robot's Celery tasks: thin, idempotent, ids only."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from taxservice import scheduling
from taxservice.taxpayers import grid_services
from taxservice.workflow.routing import services, uploads


@shared_task(
    name=scheduling.ROBOT_DISPATCH, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def robot_dispatch(task_id: int) -> int:
    """Dispatch one freshly transferred task. Returns how many were dispatched (0 or 1)."""
    return services.robot_run(trigger="transfer", task_ids=[task_id]).dispatched


@shared_task(name=scheduling.ROBOT_SWEEP, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def robot_sweep(trigger: str = "sweep") -> int:
    """Dispatch the backlog oldest-first. Returns how many were dispatched.

    An empty backlog is not a run: nothing is logged, so closing tasks stays cheap.
    """
    if not services.robot_backlog().exists():
        return 0
    return services.robot_run(trigger=trigger, batch_size=settings.TAXSERVICE_ROBOT_BATCH).dispatched


# The longest a bulk upload may run (MAX_ROWS rows): the soft limit fails the batch with
# code `timed_out`; the hard one ends the worker process, and the sweep settles the batch.
# CELERY_BROKER_TRANSPORT_OPTIONS' visibility_timeout must stay above the hard limit.
UPLOAD_SOFT_TIME_LIMIT = 15 * 60
UPLOAD_TIME_LIMIT = UPLOAD_SOFT_TIME_LIMIT + 60
# Beat's stuck-upload sweep (settings.CELERY_BEAT_SCHEDULE["upload-sweep"]).
UPLOAD_SWEEP = scheduling.UPLOAD_SWEEP


@shared_task(
    name=scheduling.PROCESS_UPLOAD,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=UPLOAD_SOFT_TIME_LIMIT,
    time_limit=UPLOAD_TIME_LIMIT,
)
def process_upload(batch_id: int) -> str:
    """Check and import a bulk upload; the batch always ends `done` or `failed`.

    Idempotent: a finished batch is left alone, and a message redelivered or retried after
    its run died restarts a batch left `importing` from a clean state (nothing of it was
    committed), at most uploads.MAX_ATTEMPTS runs. It is retried when the database
    connection was lost; the sweep below is the backstop when even the retries fail.
    """
    return uploads.upload_process(batch_id=batch_id).state


@shared_task(name=UPLOAD_SWEEP, acks_late=True)
def upload_sweep() -> dict[str, int]:
    """Restart or fail the bulk uploads without progress for TAXSERVICE_UPLOAD_STALE_MINUTES."""
    result = uploads.upload_sweep(stale_after=timedelta(minutes=settings.TAXSERVICE_UPLOAD_STALE_MINUTES))
    return {"restarted": result.restarted, "failed": result.failed, "running": result.running}


@shared_task(
    name=scheduling.PROCESS_GRID_IMPORT, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3
)
def process_grid_import(import_id: int) -> str:
    """Check and import a file of grid assignments; the import always ends `done` or `failed`.

    Here with the hub's other jobs: grids sit below taxpayers, so they have no task module
    of their own that could call the taxpayers' grid services."""
    return grid_services.grid_import_process(import_id=import_id).state
