from django.apps import AppConfig


class BackOfficeConfig(AppConfig):
    name = "back_office"
