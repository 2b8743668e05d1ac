from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "taxservice.workflow.routing"
    label = "routing"
    verbose_name = _("Routing and dispatch")

    def ready(self) -> None:
        # Register the Celery tasks under the names taxservice.scheduling sends them by.
        from taxservice.workflow.routing import tasks  # noqa: F401
