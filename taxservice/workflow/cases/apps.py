from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "taxservice.workflow.cases"
    label = "cases"
    verbose_name = _("Cases and tasks")

    def ready(self) -> None:
        # Register the Celery tasks under the names taxservice.scheduling sends them by.
        from taxservice.workflow.cases import tasks  # noqa: F401
