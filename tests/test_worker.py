"""A real Celery worker process, on Redis, writing notifications into the test database.

Skipped unless CELERY_WORKER_TEST=1; `.ci/run` runs it on PostgreSQL:

    CELERY_WORKER_TEST=1 CELERY_BROKER_URL=redis://127.0.0.1:6379/15 \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
    .venv/bin/python -m pytest -m worker tests/test_worker.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.backends.redis import RedisBackend
from django.conf import settings as django_settings
from django.db import connection
from pytest_django.fixtures import SettingsWrapper

from taxservice.celery import app as celery_app
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Notification, TaskTransition
from taxservice.workflow.cases.tasks import notify_transition

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        os.environ.get("CELERY_WORKER_TEST") != "1", reason="needs Redis and a real worker: set CELERY_WORKER_TEST=1"
    ),
]

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
WAIT_SECONDS = 30


def _broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url and not url.startswith(("redis://", "rediss://")):
        # Celery prefers this variable over the settings, so it cannot be overridden here.
        pytest.skip(f"CELERY_BROKER_URL must be a redis:// URL for this test, not {url.split(':')[0]}://")
    return url or DEFAULT_BROKER


def _test_database_url() -> str:
    """The URL of the database this test process is using (the test database, not `test`)."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "the worker needs a database it can share: run with DATABASE_URL=postgres://... (SQLite's test DB is in memory)"
        )
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}{port}/{quote(db['NAME'], safe='')}"


def _forget_broker_connections() -> None:
    # Celery reads its settings through django.conf.settings at each lookup, but it
    # caches the broker connection pool, the producer pool, the queues and the task
    # sender built from them; without dropping those it would keep publishing to the
    # old broker and queue.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)


@contextmanager
def _publishing_to(settings: SettingsWrapper, *, broker_url: str, queue: str) -> Iterator[None]:
    """Send tasks to `queue` on `broker_url` instead of running them in-process."""
    settings.CELERY_BROKER_URL = broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    _forget_broker_connections()
    try:
        yield
    finally:
        # pytest-django's `settings` restores the values after the test.
        _forget_broker_connections()


@contextmanager
def _worker(*, broker_url: str, queue: str, database_url: str, log_path: Path) -> Iterator[Callable[[], str]]:
    """Start `celery worker` on `queue`; yield a function that returns its output so far."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "taxservice.settings",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DATABASE_URL": database_url,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "taxservice", "worker",
        "--pool=solo", "--concurrency=1", "-Q", queue, "-n", f"{queue}@%h",
        "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    def output() -> str:
        return log_path.read_text(errors="replace")

    try:
        _wait_until(lambda: " ready." in output() or process.poll() is not None, what="the worker to start")
        if process.poll() is not None:
            raise AssertionError(f"the worker exited with {process.returncode}")
        yield output
    except BaseException:
        print(f"--- celery worker output ---\n{output()}\n--- end of worker output ---")
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        # The queue and its binding are this test's own; results expire by themselves.
        redis.Redis.from_url(broker_url).delete(queue, f"_kombu.binding.{queue}")


def _wait_until(condition: Callable[[], object], *, what: str, seconds: float = WAIT_SECONDS) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def _finished(results: RedisBackend, task_id: str) -> dict | None:
    meta = results.get_task_meta(task_id)
    return meta if meta["status"] in {"SUCCESS", "FAILURE"} else None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_notifies_the_assignee_once_per_transition(org, open_case, settings, tmp_path):
    database_url = _test_database_url()
    broker_url = _broker_url()
    queue = f"taxservice-test-{uuid.uuid4().hex[:12]}"
    results = RedisBackend(app=celery_app, url=broker_url)

    with (
        _publishing_to(settings, broker_url=broker_url, queue=queue),
        _worker(
            broker_url=broker_url, queue=queue, database_url=database_url, log_path=tmp_path / "worker.log"
        ) as worker_output,
    ):
        task = open_case("assisted").tasks.get()
        transferred = services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        assert not transferred.auto_dispatch, "the robot would race the manual assignment below"
        # Commits, then sends notify_transition to the broker: only the worker writes the row.
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
        assign = TaskTransition.objects.get(task=task, transition="assign")

        _wait_until(
            lambda: Notification.objects.filter(recipient=org.member, transition=assign).exists(),
            what="the worker to write the assignment notification",
        )
        assert re.search(r"notify_transition\[[0-9a-f-]+\] succeeded in [0-9.]+s: 1", worker_output())

        # A redelivered or repeated message must not notify twice.
        again = notify_transition.delay(assign.pk)
        meta = _wait_until(lambda: _finished(results, again.id), what="the repeated notify_transition to finish")
        results.forget(again.id)

        assert meta["status"] == "SUCCESS", meta
        assert meta["result"] == 0
        notifications = Notification.objects.filter(transition=assign)
        assert [(n.recipient_id, n.task_id) for n in notifications] == [(org.member.pk, task.pk)]
        assert f"T{task.pk}" in notifications.get().message
