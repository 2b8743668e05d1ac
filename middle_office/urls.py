from django.urls import path

from . import views

app_name = "middle_office"

urlpatterns = [
    path("", views.queue, name="queue"),
]
