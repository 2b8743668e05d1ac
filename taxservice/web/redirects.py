"""Where a page may send the browser back to after a POST (`next`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest) -> str:
    """The POST's `next` if it is a path on this site, else "".

    Every page that sends a `next` sends one of its own paths ("/middle-office/staff/?duty=off"),
    so nothing else is accepted: no scheme or host (not even this site's, which could
    downgrade https to http), no scheme-relative "//host", no backslashes or control
    characters that browsers read as a host, and Django's own check on top.
    """
    candidate = request.POST.get("next", "")
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return ""
    if any(ord(char) < 32 or ord(char) == 127 for char in candidate):
        return ""
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return ""
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return candidate
