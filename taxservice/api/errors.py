"""Every API error is JSON: a machine-readable `code` and a human-readable `detail`.

- `exception_handler` is DRF's (REST_FRAMEWORK["EXCEPTION_HANDLER"]): service errors,
  validation errors, DRF's own 404/405/415/parse errors, Django's Http404 and
  PermissionDenied raised in a view.
- `bad_request`, `permission_denied`, `not_found` and `server_error` are Django's
  handler400/403/404/500 (taxservice/urls.py): under /api/ they answer JSON, elsewhere
  the usual pages. `server_error` answers 503 with `Retry-After` when the failure was the
  database connection (taxservice/api/middleware.py has the view-level handling).
- `json_error` builds such an answer for the middlewares that refuse a request before any
  view runs (a NUL byte, a body over the limit, an idempotency key in use).

docs/api-robustness.md lists the codes.
"""

from __future__ import annotations

import sys

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from taxservice.errors import ServiceError

API_PREFIX = "/api/"
# Connection-level database failures: the request may succeed once the connection is back.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 1


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def json_error(status_code: int, code: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"code": code, "detail": str(detail), **extra}, status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "detail": exc.detail}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status)
    # Django's own exceptions as DRF's, so they get a code below too (DRF converts them
    # only inside its handler, where `exc` stays the original).
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*(exc.args or (_("Not found."),)))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": _first_message(exc.detail), "fields": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(exc.detail),
        }
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data["code"] = "not_authenticated"
    return response


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


# --- Django's error handlers (taxservice/urls.py) ----------------------------------------------


def bad_request(request, exception):
    if is_api_path(request.path):
        return json_error(400, "bad_request", _("The request could not be understood."))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api_path(request.path):
        return json_error(403, "permission_denied", _("You may not do this."))
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if is_api_path(request.path):
        return json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Called while the exception is being handled: a lost database connection is a 503
    # the client may retry, not a 500.
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    if is_api_path(request.path):
        return json_error(500, "server_error", _("Something went wrong on our side; it has been logged."))
    return defaults.server_error(request)


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON under /api/, a plain page elsewhere (it needs no database)."""
    detail = _("The database is not reachable just now. Please try again in a moment.")
    if is_api_path(request.path):
        response: HttpResponse = json_error(503, "database_unavailable", detail)
    else:
        title = _("Service unavailable")
        response = HttpResponse(
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{detail}</p></body></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
