"""The Celery application. Tasks stay thin: they take ids and call services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taxservice.settings")

app = Celery("taxservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
