from django.urls import path

from . import views

app_name = "grid"

urlpatterns = [
    path("grids/", views.grid_list, name="grids"),
    path("grids/rules/apply/", views.rules_apply, name="rules_apply"),
    path("grids/import/", views.imports, name="imports"),
    path("grids/import/template.csv", views.import_template, name="import_template"),
    path("grids/import/<int:import_id>/", views.import_detail, name="import"),
    path("grids/import/<int:import_id>/progress/", views.import_progress, name="import_progress"),
    path("grids/<str:code>/", views.grid_detail, name="grid"),
    path("grids/<str:code>/tasks/", views.grid_tasks, name="grid_tasks"),
    path("taxpayers/<str:credit_code>/", views.taxpayer_detail, name="taxpayer"),
]
