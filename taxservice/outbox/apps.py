from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "taxservice.outbox"
    label = "outbox"
    verbose_name = _("Outbox")

    def ready(self) -> None:
        # Register the relay's and the purge's Celery tasks under their names.
        from taxservice.outbox import tasks  # noqa: F401
