from django.urls import path
from rest_framework.routers import DefaultRouter

from taxservice.api import views

router = DefaultRouter()
router.register("taxpayers", views.TaxpayerViewSet, basename="taxpayer")
router.register("catalogue/items", views.ItemViewSet, basename="item")
router.register("cases", views.CaseViewSet, basename="case")
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
