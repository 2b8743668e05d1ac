from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    """Sign-in security: the sign-in audit trail, the lockout page, and the integrators'
    API tokens with their authentication and rate limit (docs/security.md)."""

    name = "taxservice.signin"
    label = "signin"
    verbose_name = _("Sign-in and API tokens")

    def ready(self) -> None:
        from taxservice.signin import schema, signals  # noqa: F401  (schema registers the OpenAPI extension)

        signals.connect()
