from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "taxservice.catalogue"
    label = "catalogue"
