"""Typed helpers that read settings from the environment.

Every setting that varies between machines is read here, through these helpers,
so `settings.py` stays the one place that knows the environment.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def env_hours(name: str, default: str = "") -> str:
    """A daily window of local hours, "HH:MM-HH:MM", start before end; empty means none.

    Returned normalised ("08:30-17:30"), so whoever reads the setting later can split it
    on "-" and parse both halves: a malformed value stops start-up here instead.
    """
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    match = _HOURS.match(raw)
    try:
        if not match:
            raise ValueError
        start = dt.time(int(match[1]), int(match[2]))
        end = dt.time(int(match[3]), int(match[4]))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a range of local times such as 08:30-17:30, got {raw!r}") from None
    if start >= end:
        raise ImproperlyConfigured(f"{name} must start before it ends, such as 08:30-17:30, got {raw!r}")
    return f"{start:%H:%M}-{end:%H:%M}"


def database_from_url(url: str, *, conn_max_age: int = 0) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name` into a DATABASES entry."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        path = unquote(parsed.path[1:]) if parsed.path.startswith("/") else parsed.path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path or ":memory:"}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict = {}
        query = parse_qs(parsed.query)
        if "sslmode" in query:
            options["sslmode"] = query["sslmode"][0]
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "OPTIONS": options,
        }
        return config
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported (sqlite or postgres)")
