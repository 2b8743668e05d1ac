from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView

from taxservice.api.docs import ApiDocsView

# The Django admin in the platform's name and language (its sections are the apps'
# translated verbose_name).
admin.site.site_header = _("Tax Service Collaboration Platform administration")
admin.site.site_title = _("Tax Service Collaboration Platform administration")

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
