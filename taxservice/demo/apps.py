from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """No models: the demo only writes rows of the core apps."""

    name = "taxservice.demo"
    label = "demo"
    verbose_name = _("Demo city")
