"""`Idempotency-Key` on every POST under /api/v1/, with Stripe's semantics.

Without the header nothing changes. With it (and an authenticated caller):

- the first request inserts the (user, key) record, runs, and its answer (status,
  Content-Type/Location, body) is stored for TAXSERVICE_IDEMPOTENCY_HOURS (24) when it is
  not a 5xx or a 429; a 5xx or an exception frees the key, so a retry runs anew;
- a retry with the same method, path, query and body gets the stored answer again, with
  `Idempotent-Replayed: true`, and runs nothing;
- a retry that arrives while the first still runs waits for it (polling, at most
  TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS) and replays its answer; past the bound it answers
  409 `idempotency_in_progress`;
- the same key with another body (or path) answers 422 `idempotency_key_reused`.

Keys are scoped to the user: two callers may use the same key. docs/api-robustness.md.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from taxservice.idempotency import services

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 255
# Answers that are not stored: the request may well succeed when retried.
NOT_STORED = {429}


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": str(detail)}, status=status)


class IdempotencyMiddleware:
    """After AuthenticationMiddleware (a session's user); token callers are authenticated here."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(
                400,
                "invalid_idempotency_key",
                _("The Idempotency-Key header must be 1 to %(n)s printable characters.") % {"n": MAX_KEY_LENGTH},
            )
        user = _caller(request)
        if user is None:
            return self.get_response(request)  # the view refuses the request (401/403)
        digest = services.fingerprint(
            method=request.method,
            path=request.path_info,
            query=request.META.get("QUERY_STRING", ""),
            body=_body(request),
        )
        claim = services.claim(user=user, key=key, method=request.method, path=request.path_info, digest=digest)
        if claim.outcome == "mismatch":
            return _error(
                422,
                "idempotency_key_reused",
                _("This Idempotency-Key was used with a different request; use a new key for a new request."),
            )
        if claim.outcome == "in_progress":
            response = _error(
                409,
                "idempotency_in_progress",
                _("A request with this Idempotency-Key is still running; retry in a moment."),
            )
            response["Retry-After"] = "1"
            return response
        record = claim.record
        assert record is not None
        if claim.outcome == "replay":
            return _replay(record)
        try:
            response = self.get_response(request)
        except BaseException:
            services.release(record)
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            services.release(record)
        else:
            services.finish(
                record, status=response.status_code, headers=dict(response.headers.items()), body=response.content
            )
        return response


def _caller(request: HttpRequest):
    """The authenticated user, by the API's own authenticators; None when they refuse."""
    drf_request = Request(request, authenticators=[auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    try:
        user = drf_request.user
    except APIException:
        return None
    return user if user is not None and user.is_authenticated else None


def _body(request: HttpRequest) -> bytes:
    """The body, read once (the view reads it again from memory).

    A multipart upload larger than DATA_UPLOAD_MAX_MEMORY_SIZE is not read here (Django
    would refuse to hold it): its fingerprint is its Content-Type and Content-Length.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if limit is not None and length > limit:
        return f"{request.META.get('CONTENT_TYPE', '')}\n{length}".encode()
    return request.body


def _replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response
