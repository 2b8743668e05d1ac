from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldChecksConfig(AppConfig):
    name = "taxservice.workflow.fieldchecks"
    label = "fieldchecks"
    verbose_name = _("实地核查: field checks")
