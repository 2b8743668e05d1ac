from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "taxservice.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from taxservice.ops import celery_signals

        celery_signals.connect()
