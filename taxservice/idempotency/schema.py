"""drf-spectacular postprocessing: the `Idempotency-Key` header on every POST under /api/v1/."""

from __future__ import annotations

from taxservice.idempotency.middleware import HEADER, MAX_KEY_LENGTH, PREFIX

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "Optional. Makes a retry safe: the first answer to this key (status and body) is stored for 24 hours and "
        "replayed to a retry with the same request (header `Idempotent-Replayed: true`); a retry arriving while the "
        "first still runs waits for it. The same key with a different request answers 422 "
        "(`idempotency_key_reused`); still running after 30 s, 409 (`idempotency_in_progress`). Keys are per user. "
        "A 5xx answer is not stored: the key stays free for the retry."
    ),
}
RESPONSES = {
    "422": {"description": "`idempotency_key_reused`: this Idempotency-Key came with a different request."},
}


def document_idempotency_key(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("post")
        if not path.startswith(PREFIX) or operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == HEADER and p.get("in") == "header" for p in parameters):
            parameters.append(dict(PARAMETER))
        responses = operation.setdefault("responses", {})
        for status, response in RESPONSES.items():
            responses.setdefault(status, dict(response))
    return result
