"""The probes, the Prometheus endpoint and the operations page (docs/operations.md)."""

from django.urls import path

from taxservice.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="ops-healthz"),
    path("readyz", views.readyz, name="ops-readyz"),
    path("metrics", views.metrics_view, name="ops-metrics"),
    path("operations/", views.status, name="ops_status"),
]
