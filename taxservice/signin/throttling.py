"""The API's rate limit: TAXSERVICE_API_RATE requests a minute per token when a token
authenticates, else per signed-in user, else per address. Counted in the Django cache
(per process with the local-memory cache, shared with Redis: docs/security.md)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from taxservice.signin.models import ApiToken


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        # Read from the settings on each request (DRF's THROTTLE_RATES is fixed at import).
        rate = settings.TAXSERVICE_API_RATE
        return f"{rate}/min" if rate > 0 else None

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
