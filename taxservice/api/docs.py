"""The API's browsable documentation (Swagger UI at /api/docs/)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI for staff. A browser that is not signed in goes to the login page and
    comes back here, instead of a bare 401 page with no way to sign in; any other client
    keeps the 401. The schema it reads (/api/schema/) answers API clients with JSON."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated) and self.request.accepts("text/html"):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
