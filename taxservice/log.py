"""Logging: filters and formatters named by LOGGING in settings.py, and the request context.

- `ClientErrorsWithoutTraceback`: an ordinary 4xx is one line, a 5xx keeps its traceback.
- `RequestContextFilter`: every record carries the request id, the user's id and role of
  the work it belongs to (a web request, or the Celery task the request started).
- `JsonFormatter`: one JSON object a line, for production (TAXSERVICE_PRODUCTION=true or
  LOG_FORMAT=json); credit codes and passwords are masked on the way out.

The context lives in a `contextvars.ContextVar`: the request middleware
(`taxservice.ops.middleware`) sets it for a request, the Celery signals
(`taxservice.ops.celery_signals`) for a task. This module imports nothing of the project,
so the settings and the Celery app can name it without loading Django models.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.functional import LazyObject, empty

# --- the request context --------------------------------------------------------------


@dataclass
class LogContext:
    """Who and what a log line belongs to. `user_id` and `role` may be filled in late:
    the API authenticates its token inside the view, after the middleware has run."""

    request_id: str
    user_id: int | None = None
    role: str = ""
    # The HttpRequest, when there is one: the filter reads a user DRF set after the fact.
    request: Any = None


_context: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("taxservice_log_context", default=None)

# An incoming X-Request-ID is honoured when it is short and made of safe characters only:
# it is copied into every log line and into a response header.
REQUEST_ID_MAX_LENGTH = 64
_SAFE_REQUEST_ID = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """The incoming id if it is safe to log and echo, else None (the caller makes a new one)."""
    if value and _SAFE_REQUEST_ID.match(value):
        return value
    return None


def current_context() -> LogContext | None:
    return _context.get()


def set_context(context: LogContext | None) -> contextvars.Token:
    return _context.set(context)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def role_of(user: Any) -> str:
    """The user's roles, sorted and joined (bounded: there are a handful of roles), from the
    staff record the request already loaded (`org.selectors.staff_for_user` caches it on the
    user). Never queries: a log line must not cost a database round trip."""
    staff = getattr(user, "_staff_cache", None)
    if staff is None:
        return ""
    # staff_for_user prefetched the role rows with the record: reading them costs no query.
    roles = getattr(staff, "roles", None)
    return ",".join(sorted(roles)) if roles else ""


def loaded_user(request: Any) -> Any:
    """The request's user if it is already loaded, else None: reading a lazy user would query
    the session and the user table from inside a log call (and fail while the database does)."""
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject) and user._wrapped is empty:
        return None
    return user


def fill_user(context: LogContext, user: Any) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        context.user_id = user.pk
        context.role = context.role or role_of(user)


# --- filters ----------------------------------------------------------------------------


class ClientErrorsWithoutTraceback(logging.Filter):
    """Log a 4xx response as its one line, without the exception's traceback.

    Django logs every response it turns an exception into (`django.utils.log.log_response`)
    with the exception attached, so an ordinary 403 (PermissionDenied from a page's rule)
    or 400 printed a full traceback that points at nothing wrong. A 4xx is the client's
    mistake, and its line already says what and where; a 5xx keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RequestContextFilter(logging.Filter):
    """Put `request_id`, `user_id` and `role` on every record ("-" / None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        if context is None:
            record.request_id = getattr(record, "request_id", "-")
            record.user_id = getattr(record, "user_id", None)
            record.role = getattr(record, "role", "")
            return True
        if context.user_id is None and context.request is not None:
            fill_user(context, loaded_user(context.request))
        record.request_id = context.request_id
        record.user_id = context.user_id
        record.role = context.role
        return True


# --- formatters -------------------------------------------------------------------------

# 统一社会信用代码: 18 characters from the code's alphabet (no I, O, S, V, Z), with six
# digits (the region) in places 3-8. Masked wherever it appears in a line.
_CREDIT_CODE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
# password=..., "password": "...", token=... in whatever a line quotes.
_SECRET = re.compile(
    r"""(?i)(["']?(?:password|passwd|secret|token|authorization)["']?\s*[:=]\s*["']?)((?:(?:token|bearer|basic)\s+)?[^"'\s,&}]+)"""
)


def redact(text: str) -> str:
    """The text with credit codes and password-like values masked."""
    text = _CREDIT_CODE.sub(lambda m: m.group(0)[:2] + "*" * 12 + m.group(0)[-4:], text)
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


# Attributes every LogRecord has; anything else was passed in `extra=` and is kept.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# Extras never copied into a line: the request object and the raw message arguments.
_SKIPPED = {"request", "server_time", "args", "request_id", "user_id", "role", "status_code"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request context, the
    response status when there is one, a traceback as one string, and simple extras."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
        }
        if getattr(record, "user_id", None) is not None:
            event["user_id"] = record.user_id
        if getattr(record, "role", ""):
            event["role"] = record.role
        if isinstance(getattr(record, "status_code", None), int):
            event["status"] = record.status_code
        for key, value in record.__dict__.items():
            if key in _STANDARD or key in _SKIPPED or key.startswith("_") or key in event:
                continue
            if isinstance(value, str):
                event[key] = redact(value)
            elif value is None or isinstance(value, bool | int | float):
                event[key] = value
        if record.exc_info:
            event["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            event["exc"] = redact(record.exc_text)
        return json.dumps(event, ensure_ascii=False, default=str)
