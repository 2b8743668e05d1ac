from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "taxservice.workflow.quality"
    label = "quality"
    verbose_name = _("Quality loop")

    def ready(self) -> None:
        # Register the Celery task under the name the beat schedule sends it by.
        from taxservice.workflow.quality import tasks  # noqa: F401
