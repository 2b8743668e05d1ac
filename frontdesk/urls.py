from django.urls import path

from . import feedback, views

app_name = "frontdesk"

urlpatterns = [
    path("", views.consult, name="consult"),
    path("taxpayers/<str:credit_code>/open/", views.open_case, name="open_case"),
    path("items/search/", views.item_picker, name="item_picker"),
    path("items/chosen/", views.chosen_items, name="chosen_items"),
    path("cases/<int:case_id>/", views.consultation, name="case"),
    path("cases/<int:case_id>/summary/", views.consultation_summary, name="case_summary"),
    path("tasks/<int:task_id>/step/", views.counter_step, name="counter_step"),
    path("feedback/", feedback.feedback_worklist, name="feedback"),
    path("feedback/<int:task_id>/", feedback.feedback_give, name="feedback_give"),
]
