"""The API's browsable documentation (Swagger UI at /api/docs/)."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated


# Swagger UI's page carries a <style> block and sets style attributes: this page alone may
# use inline styles. Its start-up script is a file of its own (?script, the split view), so
# scripts stay 'self' only, as everywhere (docs/security.md).
@method_decorator(csp_update({"style-src": [UNSAFE_INLINE]}), name="dispatch")
class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI for staff. A browser that is not signed in goes to the login page and
    comes back here, instead of a bare 401 page with no way to sign in; any other client
    keeps the 401. The schema it reads (/api/schema/) answers API clients with JSON."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated) and self.request.accepts("text/html"):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
