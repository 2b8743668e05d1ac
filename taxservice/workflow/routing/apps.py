from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "taxservice.workflow.routing"
    label = "routing"

    def ready(self) -> None:
        # Register the Celery tasks under the names taxservice.scheduling sends them by.
        from taxservice.workflow.routing import tasks  # noqa: F401
