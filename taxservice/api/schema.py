"""The OpenAPI schema tells the truth about errors (docs/api-robustness.md, "The schema and schemathesis").

Every error the API answers is JSON `{code, detail, fields?}` (taxservice/api/errors.py).
`ApiErrorSerializer` is that shape; `document_common_errors` (a drf-spectacular
postprocessing hook, SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) gives every operation
under /api/v1/ the error answers that do not depend on the view:

- 400: a NUL byte anywhere, a malformed body, a bad filter or field (nothing is written);
- 401: no or a bad token; 403: the role may not; 429: over TAXSERVICE_API_RATE a minute;
- 404: routes with an id in the path, and paginated lists (a page past the end);
- 413 and 415: operations with a body (over the size limit; a media type not accepted);
- 409 and 422: POSTs (an `Idempotency-Key` still in use; the key reused with another body);
- 503: the database connection failed (`Retry-After`).

A view documents its own 4xx (409 for a conflict, 404 with its meaning...) with
`extend_schema(responses=...)`; the hook keeps those and only gives a response without a
body the error body. `ERRORS` holds the shared OpenApiResponse objects for views to use.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

PREFIX = "/api/v1/"
COMPONENT = "ApiError"


@extend_schema_serializer(component_name=COMPONENT)
class ApiErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, stable: `invalid`, `not_found`, `permission_denied`...")
    detail = serializers.CharField(help_text="Human-readable, in the caller's language.")
    fields = serializers.DictField(
        required=False, help_text="For `invalid`: the message(s) of each field that was refused."
    )


DESCRIPTIONS = {
    400: "Bad input (`invalid`, `bad_request`, `nul_byte`, `parse_error`); nothing is written.",
    401: "No credentials, or a token that is unknown, expired or revoked (`not_authenticated`).",
    403: "The caller's role may not do this (`permission_denied`).",
    404: "No such object in the caller's scope, or a page past the end (`not_found`).",
    409: "A conflict with the current state, or this `Idempotency-Key` is still in use (`idempotency_in_progress`).",
    413: "The request body is over the limit (`body_too_large`).",
    415: "The request's media type is not accepted (`unsupported_media_type`).",
    422: "This `Idempotency-Key` came with a different request (`idempotency_key_reused`).",
    429: "Over the API's rate limit (`throttled`); `Retry-After` says when to come back.",
    503: "The database is unreachable for a moment (`database_unavailable`); retry after `Retry-After` seconds.",
}

# The shared OpenApiResponse objects, for a view's extend_schema(responses={...}).
ERRORS = {status: OpenApiResponse(ApiErrorSerializer, description=text) for status, text in DESCRIPTIONS.items()}

COMPONENT_SCHEMA = {
    "type": "object",
    "description": "Every API error: a code, a message and, for refused input, the fields.",
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, stable."},
        "detail": {"type": "string", "description": "Human-readable, in the caller's language."},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": "For `invalid`: the message(s) of each field that was refused.",
        },
    },
    "required": ["code", "detail"],
}


def error_content() -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{COMPONENT}"}}}


BODY_METHODS = {"post", "put", "patch"}


def common_statuses(path: str, method: str, operation: dict) -> list[int]:
    """The error statuses any operation of this kind can answer, whatever its view."""
    statuses = [400, 401, 403, 429, 503]
    params = operation.get("parameters", [])
    if "{" in path or any(p.get("in") == "query" and p.get("name") == "page" for p in params):
        statuses.append(404)
    if method in BODY_METHODS or "requestBody" in operation:
        statuses += [413, 415]
    if method == "post":
        statuses += [409, 422]
    return sorted(statuses)


FIELDS_ANY = "A field's messages: a list, or for a list or nested field, its messages by index or key."


def relax_error_fields(schemas: dict) -> None:
    """Every error shape's `fields`: a refused list field's messages come by index
    (`{"members": {"0": [...]}}`), not as a list of strings, whatever a view's serializer says."""
    for schema in schemas.values():
        props = schema.get("properties", {})
        if {"code", "detail", "fields"} <= set(props) and props["fields"].get("type") == "object":
            props["fields"]["additionalProperties"] = {"description": FIELDS_ANY}


def document_common_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(COMPONENT, dict(COMPONENT_SCHEMA))
    relax_error_fields(schemas)
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(PREFIX):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in common_statuses(path, method, operation):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = error_content()
            operation["responses"] = dict(sorted(responses.items()))
    return result
