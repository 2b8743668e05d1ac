from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "taxservice.grids"
    label = "grids"
    verbose_name = _("Grids and service points")
    default_auto_field = "django.db.models.BigAutoField"
