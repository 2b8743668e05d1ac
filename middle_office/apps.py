from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MiddleOfficeConfig(AppConfig):
    name = "middle_office"
    verbose_name = _("Middle office")
