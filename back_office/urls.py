from django.urls import path

from . import views

app_name = "back_office"

urlpatterns = [
    path("", views.approvals, name="approvals"),
    path("approvals/bulk/", views.approvals_bulk, name="approvals_bulk"),
    path("desk/", views.desk, name="desk"),
    path("desk/tasks/", views.desk_task_list, name="desk_tasks"),
    path("desk/tasks/<int:task_id>/assign/", views.desk_assign, name="desk_assign"),
    path("desk/rebalance/", views.desk_rebalance, name="desk_rebalance"),
    path("desk/deputies/", views.delegation_create, name="delegation_create"),
    path("desk/deputies/<int:delegation_id>/revoke/", views.delegation_revoke, name="delegation_revoke"),
    path("tasks/<int:task_id>/reminders/", views.task_reminder, name="task_reminder"),
]
