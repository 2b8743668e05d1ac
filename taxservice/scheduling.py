"""Background work, scheduled by name: the one place services hand work to Celery.

Services never import a task module (and task modules import services), so the names
below are the contract between the two. Each task is registered under its name here
(`@shared_task(name=scheduling.ROBOT_DISPATCH)`); the names are the ones messages already
queued by earlier releases carry, so a worker still recognises them.

- `after_commit(name, ...)` writes the task as an outbox message in the current transaction
  (taxservice/outbox) and publishes it once the transaction commits: a rolled-back write
  never schedules anything, a worker never reads a row that is not committed yet, and a
  broker that is down delays the work (the relay publishes it later) instead of losing it
  or turning the committed write into a 500. Outside a transaction the message is written
  and published at once.
- `send(name, ...)` is the same for callers already past their commit (an on-commit hook).
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

from taxservice.outbox import services as outbox

logger = logging.getLogger(__name__)

NOTIFY_TRANSITION = "taxservice.cases.tasks.notify_transition"
NOTIFY_TRANSITIONS = "taxservice.cases.tasks.notify_transitions"
ROBOT_DISPATCH = "taxservice.routing.tasks.robot_dispatch"
ROBOT_SWEEP = "taxservice.routing.tasks.robot_sweep"
PROCESS_UPLOAD = "taxservice.routing.tasks.process_upload"
# Restart or fail the bulk uploads stuck without progress (beat; routing/uploads.py).
UPLOAD_SWEEP = "taxservice.routing.tasks.upload_sweep"
# Recompute the open tasks' due times after a calendar or time-limit change (one ClockRecompute row).
RECOMPUTE_CLOCKS = "taxservice.cases.tasks.recompute_clocks"
# The escalation ladder's periodic scan (reminder, 催办, 督办, 通报).
LADDER_SCAN = "taxservice.ladder.tasks.ladder_scan"
# Draw last week's quality-inspection sample (Monday morning; one inspection per week).
INSPECTION_DRAW = "taxservice.quality.tasks.inspection_draw_weekly"
# Check and import a file of grid assignments (one GridImport row).
PROCESS_GRID_IMPORT = "taxservice.grids.tasks.process_grid_import"
# Recompute every taxpayer's category and service grade (one ClassificationRun row).
CLASSIFY_TAXPAYERS = "taxservice.taxpayers.tasks.classify_taxpayers"
# Delete the Idempotency-Key records past their 24 hours (taxservice/idempotency).
IDEMPOTENCY_PURGE = "taxservice.idempotency.tasks.idempotency_purge"
# Deliver one webhook (one WebhookDelivery row) to its subscriber (taxservice/webhooks).
WEBHOOK_DELIVER = "taxservice.webhooks.tasks.deliver"
# The outbox's relay and purge (beat); the names live with the outbox, below this module.
OUTBOX_RELAY = outbox.OUTBOX_RELAY
OUTBOX_PURGE = outbox.OUTBOX_PURGE


def _task(name: str):  # a Celery task
    return current_app.tasks[name]


def send(name: str, *args, **kwargs) -> None:
    """Send the task now (eagerly run in the embedded setup), through the outbox: if the
    broker refuses it, it is logged and the relay sends it later. Never raises: it runs in
    on-commit hooks, after the change committed, when an exception could only turn a
    committed write into a 500."""
    try:
        after_commit(name, *args, **kwargs)
    except Exception:  # even the outbox's table unreachable: log it, the write stands
        logger.exception("Could not schedule %s%r", name, args)


def after_commit(name: str, *args, **kwargs) -> None:
    """Write the task to the outbox in the current transaction; publish it after the commit."""
    message = outbox.enqueue(name, args, kwargs)
    if message is not None:
        message_id = message.pk
        transaction.on_commit(lambda: outbox.nudge([message_id]))


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
