from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "taxservice.routing"
    label = "routing"
