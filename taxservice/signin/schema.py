"""How the OpenAPI schema describes the API tokens: HTTP bearer authentication."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "taxservice.signin.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token from /api-tokens/ or `manage.py create_api_token`: "
                "`Authorization: Bearer <key>` (`Token <key>` is accepted too). "
                "A read token may only use GET, HEAD and OPTIONS (403 `token_scope`)."
            ),
        }
