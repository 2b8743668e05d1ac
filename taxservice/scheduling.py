"""Background work, scheduled by name: the one place services hand work to Celery.

Services never import a task module (and task modules import services), so the names
below are the contract between the two. Each task is registered under its name here
(`@shared_task(name=scheduling.ROBOT_DISPATCH)`); the names are the ones messages already
queued by earlier releases carry, so a worker still recognises them.

- `after_commit(name, ...)` sends the task once the current transaction commits: a
  rolled-back write never schedules anything, and a worker never reads a row that is not
  committed yet.
- `start_job(name, ...)` is for long jobs a page polls (a bulk upload): with a broker it
  goes to the workers; in the embedded setup (tasks run in-process) it runs on a
  background thread, or in the request with TAXSERVICE_BACKGROUND_JOBS="inline" (tests).
"""

from __future__ import annotations

import logging
import threading

from celery import current_app
from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

NOTIFY_TRANSITION = "taxservice.cases.tasks.notify_transition"
NOTIFY_TRANSITIONS = "taxservice.cases.tasks.notify_transitions"
ROBOT_DISPATCH = "taxservice.routing.tasks.robot_dispatch"
ROBOT_SWEEP = "taxservice.routing.tasks.robot_sweep"
PROCESS_UPLOAD = "taxservice.routing.tasks.process_upload"
# Recompute the open tasks' due times after a calendar or time-limit change (one ClockRecompute row).
RECOMPUTE_CLOCKS = "taxservice.cases.tasks.recompute_clocks"
# The escalation ladder's periodic scan (reminder, 催办, 督办, 通报).
LADDER_SCAN = "taxservice.ladder.tasks.ladder_scan"
# Check and import a file of grid assignments (one GridImport row).
PROCESS_GRID_IMPORT = "taxservice.grids.tasks.process_grid_import"
# Recompute every taxpayer's category and service grade (one ClassificationRun row).
CLASSIFY_TAXPAYERS = "taxservice.taxpayers.tasks.classify_taxpayers"
# Delete the Idempotency-Key records past their 24 hours (taxservice/idempotency).
IDEMPOTENCY_PURGE = "taxservice.idempotency.tasks.idempotency_purge"


def _task(name: str):  # a Celery task
    return current_app.tasks[name]


def send(name: str, *args, **kwargs) -> None:
    """Send the task now (eagerly run in the embedded setup)."""
    _task(name).delay(*args, **kwargs)


def after_commit(name: str, *args, **kwargs) -> None:
    """Send the task once the current transaction commits."""
    transaction.on_commit(lambda: send(name, *args, **kwargs))


def start_job(name: str, *args) -> None:
    """Start a long job once the current transaction commits, without making the request wait."""
    transaction.on_commit(lambda: _start(name, args))


def _start(name: str, args: tuple) -> None:
    task = _task(name)
    mode = getattr(settings, "TAXSERVICE_BACKGROUND_JOBS", "auto")
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
    elif mode == "inline":
        task.apply(args=args)
    else:
        threading.Thread(target=_run_in_thread, args=(task, args), daemon=True, name=f"job-{name}").start()


def _run_in_thread(task, args: tuple) -> None:
    try:
        task.apply(args=args)
    except Exception:  # a thread has nobody to raise to: log it
        logger.exception("Background job %s%r failed", task.name, args)
    finally:
        connections.close_all()
