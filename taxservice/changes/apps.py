from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_triggers(sender, using: str = "default", **kwargs) -> None:
    """After every migrate (the test database's too): the database refuses changes to the
    audit trail (taxservice/audit.py)."""
    from taxservice.audit import install_append_only_triggers

    install_append_only_triggers(connections[using])


class ChangesConfig(AppConfig):
    name = "taxservice.changes"
    label = "changes"
    verbose_name = _("Change log")

    def ready(self) -> None:
        # Sent once per app on every migrate: hooked to this app only, it runs once.
        post_migrate.connect(_install_triggers, sender=self, dispatch_uid="taxservice.audit.triggers")
