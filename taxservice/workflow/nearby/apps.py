from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NearbyConfig(AppConfig):
    name = "taxservice.workflow.nearby"
    label = "nearby"
    verbose_name = _("就近办: visits and collections")
