from django.apps import AppConfig


class DemoConfig(AppConfig):
    """No models: the demo only writes rows of the core apps."""

    name = "taxservice.demo"
    label = "demo"
