from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LadderConfig(AppConfig):
    name = "taxservice.workflow.ladder"
    label = "ladder"
    verbose_name = _("Escalation ladder")

    def ready(self) -> None:
        # Register the Celery task under the name taxservice.scheduling sends it by.
        from taxservice.workflow.ladder import tasks  # noqa: F401
