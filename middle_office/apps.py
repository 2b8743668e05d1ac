from django.apps import AppConfig


class MiddleOfficeConfig(AppConfig):
    name = "middle_office"
