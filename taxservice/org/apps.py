from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "taxservice.org"
    label = "org"
