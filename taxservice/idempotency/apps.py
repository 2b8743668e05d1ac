from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdempotencyConfig(AppConfig):
    name = "taxservice.idempotency"
    label = "idempotency"
    verbose_name = _("Idempotent requests")

    def ready(self) -> None:
        # Register the purge's Celery task under the name taxservice.scheduling gives it.
        from taxservice.idempotency import tasks  # noqa: F401
