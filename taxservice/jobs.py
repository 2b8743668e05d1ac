"""Start a long job (a Celery task) without making the request wait for it.

With a broker, the job goes to the workers. In the embedded setup (tasks run
in-process) it runs on a background thread, so the page can poll its progress;
tests set TAXSERVICE_BACKGROUND_JOBS="inline" to run it synchronously.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)


def start_job(task, *args) -> None:  # noqa: ANN001, ANN002 - a Celery task and its arguments
    """Schedule `task(*args)` once the current transaction commits."""
    transaction.on_commit(lambda: _start(task, args))


def _start(task, args: tuple) -> None:  # noqa: ANN001
    mode = getattr(settings, "TAXSERVICE_BACKGROUND_JOBS", "auto")
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
    elif mode == "inline":
        task.apply(args=args)
    else:
        threading.Thread(target=_run_in_thread, args=(task, args), daemon=True, name=f"job-{task.name}").start()


def _run_in_thread(task, args: tuple) -> None:  # noqa: ANN001
    try:
        task.apply(args=args)
    except Exception:  # a thread has nobody to raise to: log it
        logger.exception("Background job %s%r failed", task.name, args)
    finally:
        connections.close_all()
