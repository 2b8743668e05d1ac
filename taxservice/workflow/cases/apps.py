from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "taxservice.workflow.cases"
    label = "cases"

    def ready(self) -> None:
        # Register the Celery tasks under the names taxservice.scheduling sends them by.
        from taxservice.workflow.cases import tasks  # noqa: F401
