"""Celery settings for loss-free delivery (issue #14, finding 8), as the worker sees them."""

from __future__ import annotations

from django.conf import settings

from taxservice.celery import app
from taxservice.workflow.routing.tasks import UPLOAD_SWEEP, UPLOAD_TIME_LIMIT, process_upload


def test_a_message_is_acknowledged_after_its_task_and_redelivered_when_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_each_worker_process_reserves_one_message_at_a_time():
    assert app.conf.worker_prefetch_multiplier == 1
    # One queue (no routes), so the robot's messages get prefetch 1 too.
    assert not app.conf.task_routes
    assert app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE


def test_the_visibility_timeout_outlasts_the_longest_task():
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout < 3600  # kombu's default: an hour of stranded messages after a killed worker
    assert process_upload.time_limit == UPLOAD_TIME_LIMIT
    assert process_upload.soft_time_limit < process_upload.time_limit < timeout


def test_the_stuck_upload_sweep_runs_on_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["upload-sweep"]
    assert entry["task"] == UPLOAD_SWEEP and UPLOAD_SWEEP in app.tasks
    assert entry["schedule"] * 2 <= settings.TAXSERVICE_UPLOAD_STALE_MINUTES * 60


def test_the_embedded_default_still_runs_tasks_in_process():
    # bin/run: no broker URL, tasks run eagerly in the web process.
    if settings.CELERY_BROKER_URL == "memory://":
        assert app.conf.task_always_eager is True
