from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "taxservice.cases"
    label = "cases"
