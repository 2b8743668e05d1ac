from django.apps import AppConfig


class TaxpayersConfig(AppConfig):
    name = "taxservice.taxpayers"
    label = "taxpayers"
