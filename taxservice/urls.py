from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView

from taxservice.api.docs import ApiDocsView

# The Django admin in the platform's name and language (its sections are the apps'
# translated verbose_name).
admin.site.site_header = _("Tax Service Collaboration Platform administration")
admin.site.site_title = _("Tax Service Collaboration Platform administration")

# Under /api/ these answer JSON with `code` and `detail`; elsewhere the usual pages
# (a lost database connection: 503 with Retry-After). taxservice/api/errors.py.
handler400 = "taxservice.api.errors.bad_request"
handler403 = "taxservice.api.errors.permission_denied"
handler404 = "taxservice.api.errors.not_found"
handler500 = "taxservice.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("taxservice.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    # /healthz, /readyz, /metrics and the operations page (docs/operations.md).
    path("", include("taxservice.ops.urls")),
    path("", include("taxservice.web_urls")),
]
