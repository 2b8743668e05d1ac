"""Guards in front of the API, and the database-connection health of every request.

`ApiInputGuardMiddleware` (under /api/ only), before sessions, authentication or a view:
- a NUL character in the path, a query parameter's name or value, or a form body: 400
  `nul_byte` (JSON bodies: taxservice/api/parsers.py);
- a body whose Content-Length is over TAXSERVICE_API_MAX_BODY_BYTES: 413
  `body_too_large`, unread. Multipart bodies (file uploads) are exempt: each upload
  endpoint has its own, larger limit, checked before the file is read.

`DatabaseHealthMiddleware` (every path): a view that fails because the database
connection broke (OperationalError, InterfaceError) is run once more on a fresh
connection when the request is safe (GET, HEAD, OPTIONS); a write answers 503 with
`Retry-After` instead (JSON `database_unavailable` under /api/, a plain page elsewhere):
the write may or may not have happened, and an `Idempotency-Key` makes the client's retry
safe. CONN_HEALTH_CHECKS (settings) keeps a persistent connection from being reused dead.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from taxservice.api.errors import DATABASE_UNAVAILABLE, database_unavailable, is_api_path, json_error
from taxservice.api.parsers import max_body_bytes

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiInputGuardMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path_info):
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path_info or "\x00" in request.META.get("QUERY_STRING", "") or _nul_in(request.GET):
            return _nul_byte()
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/"):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "bad_request", _("The Content-Length header is not a number."))
        limit = max_body_bytes()
        if length > limit:
            return json_error(413, "body_too_large", _("The request body is larger than %(n)s bytes.") % {"n": limit})
        if length and content_type.startswith("application/x-www-form-urlencoded") and _nul_in(request.POST):
            return _nul_byte()
        return None


def _nul_in(params) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in params.lists())


def _nul_byte() -> HttpResponse:
    return json_error(400, "nul_byte", _("The request contains a NUL character, which no field accepts."))


class DatabaseHealthMiddleware:
    """Place it last: its `process_exception` runs first, right around the view."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._db_health_view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        view = getattr(request, "_db_health_view", None)
        if request.method in SAFE_METHODS and view is not None and _reconnect():
            logger.warning("Database connection failed (%s); the %s is retried once", exception, request.method)
            view_func, view_args, view_kwargs = view
            try:
                return view_func(request, *view_args, **view_kwargs)
            except DATABASE_UNAVAILABLE as again:
                logger.error("Database still unavailable on retry: %s", again)
        else:
            logger.error("Database connection failed during a %s: %s", request.method, exception)
        return database_unavailable(request)


def _reconnect() -> bool:
    """Close every connection so the next query opens a new one; False inside a transaction.

    Inside an atomic block (a test's, or ATOMIC_REQUESTS) the work so far is lost with the
    connection, so nothing is retried there.
    """
    if any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        return False
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(*DATABASE_UNAVAILABLE):
            conn.close()  # a broken one may fail to close; the next query connects afresh
    return True
