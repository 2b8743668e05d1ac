"""Background work is scheduled by name: every name is a registered Celery task."""

from __future__ import annotations

from celery import current_app
from django.conf import settings

from taxservice import scheduling

NAMES = [value for key, value in vars(scheduling).items() if key.isupper() and isinstance(value, str)]


def test_every_scheduling_name_is_a_registered_task():
    assert len(NAMES) >= 5
    for name in NAMES:
        assert name in current_app.tasks, name


def test_the_beat_schedule_sends_registered_tasks():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks, entry["task"]
        assert entry["task"] in NAMES
