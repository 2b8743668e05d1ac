from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaxpayersConfig(AppConfig):
    name = "taxservice.taxpayers"
    label = "taxpayers"
    verbose_name = _("Taxpayers")

    def ready(self) -> None:
        # Register the Celery tasks under the names taxservice.scheduling sends them by.
        from taxservice.taxpayers import tasks  # noqa: F401
