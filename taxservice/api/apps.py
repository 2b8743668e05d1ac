from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "taxservice.api"
    label = "api"
