from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "taxservice.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Register the delivery's Celery task under the name taxservice.scheduling gives it.
        from taxservice.webhooks import tasks  # noqa: F401
