"""Errors raised by the services. Views map them to form messages or HTTP answers."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused action. `code` is machine-readable; `detail` is for people."""

    code = "error"
    status = 400

    def __init__(self, detail: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or {}


class InvalidInput(ServiceError):
    code = "invalid"
    status = 400


class ActionForbidden(ServiceError):
    code = "permission_denied"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class TransitionNotAllowed(ServiceError):
    code = "transition_not_allowed"
    status = 409


class ConcurrentChange(ServiceError):
    code = "conflict"
    status = 409
