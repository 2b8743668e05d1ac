"""Path ids of the API: a number of 1 to 18 digits, or the URL does not match (a JSON 404).

An id that is not a number (`/tasks/abc/transitions/`), or one too large for the database's
bigint (`/tasks/99999999999999999999/`), used to reach a view and fail there (an HTML 500).
Now it matches no URL, and taxservice.api.errors.not_found answers 404 `not_found`.

- `ApiRouter` gives every viewset looked up by `pk` this pattern (viewsets looked up by a
  code, such as taxpayers by credit code, keep their own);
- the `id` path converter is the same for hand-written paths: `<id:run_id>`.
"""

from __future__ import annotations

from django.urls import register_converter
from rest_framework.routers import DefaultRouter

ID_REGEX = "[0-9]{1,18}"


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class ApiRouter(DefaultRouter):
    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_field", "pk") == "pk":
            lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or "pk"
            return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{ID_REGEX})"
        return super().get_lookup_regex(viewset, lookup_prefix)
