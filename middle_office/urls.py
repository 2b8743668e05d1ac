from django.urls import path

from . import views

app_name = "middle_office"

urlpatterns = [
    path("", views.queue, name="queue"),
    # The coordinator's dashboard (任务统筹).
    path("hub/", views.hub, name="hub"),
    path("hub/robot/", views.robot, name="robot"),
    path("hub/staff/", views.staff_list, name="staff"),
    path("hub/staff/<int:staff_id>/duty/", views.staff_duty, name="staff_duty"),
    path("hub/uploads/", views.uploads, name="uploads"),
    path("hub/uploads/template.csv", views.upload_template, name="upload_template"),
    path("hub/uploads/<int:batch_id>/", views.upload_detail, name="upload_detail"),
    path("hub/uploads/<int:batch_id>/progress/", views.upload_status, name="upload_progress"),
    path("hub/rules/", views.rules, name="rules"),
    path("hub/rules/new/", views.rule_edit, name="rule_new"),
    path("hub/rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
]
