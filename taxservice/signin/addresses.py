"""The client's address as the lockout and the sign-in trail see it.

Behind `TAXSERVICE_TRUSTED_PROXIES` reverse proxies (each appending to X-Forwarded-For),
the address the outermost trusted proxy saw; with none, REMOTE_ADDR. Anything further left
in X-Forwarded-For was written by the client and is not trusted: a spoofed header cannot
move an attacker out of their own address's lockout.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TAXSERVICE_TRUSTED_PROXIES", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
