"""The browser pages. The API lives under /api/v1/ (taxservice.api.urls)."""

from django.urls import include, path

from taxservice.web import absences as absence_pages
from taxservice.web import calendar, classification, fieldchecks, inbox, ladder, nearby, quality, subtasks, views
from taxservice.web import teams as team_pages
from taxservice.web import tokens as api_tokens

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("my-tasks/", views.my_tasks, name="my_tasks"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/step/", views.task_step, name="task_step"),
    path("tasks/<int:task_id>/notes/", views.task_note, name="task_note"),
    path("tasks/<int:task_id>/field-checks/", fieldchecks.field_check_record, name="field_check_record"),
    path("tasks/<int:task_id>/subtasks/", subtasks.subtask_open, name="subtask_open"),
    path(
        "field-check-attachments/<int:attachment_id>/",
        fieldchecks.field_check_attachment,
        name="field_check_attachment",
    ),
    path("search/", views.search, name="search"),
    path("staff/<int:staff_id>/absences/", absence_pages.absences, name="staff_absences"),
    path(
        "staff/<int:staff_id>/absences/<str:kind>/<int:row_id>/withdraw/",
        absence_pages.absence_withdraw,
        name="staff_absence_withdraw",
    ),
    path("teams/", team_pages.teams_page, name="teams"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:notification_id>/read/", inbox.inbox_mark_read, name="inbox_mark_read"),
    path("inbox/read-all/", inbox.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("inbox/link/", inbox.inbox_link, name="inbox_link"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/override/", calendar.calendar_override, name="calendar_override"),
    path("calendar/recomputes/<int:run_id>/", calendar.calendar_recompute, name="calendar_recompute"),
    path("classification/", classification.classification_page, name="classification"),
    path("classification/runs/", classification.classification_run_new, name="classification_run_new"),
    path("classification/runs/<int:run_id>/", classification.classification_run_row, name="classification_run"),
    path(
        "classification/versions/<int:version>/use/",
        classification.classification_restore,
        name="classification_restore",
    ),
    path("notices/", ladder.notices, name="notices"),
    path("api-tokens/", api_tokens.tokens_page, name="api_tokens"),
    path("api-tokens/<int:token_id>/revoke/", api_tokens.token_revoke_view, name="api_token_revoke"),
    path("cases/<int:case_id>/quality/", quality.case_quality, name="case_quality"),
    path("cases/<int:case_id>/rating/", quality.case_rate, name="case_rate"),
    path("cases/<int:case_id>/return-visits/", quality.case_return_visit, name="case_return_visit"),
    path("quality/", quality.inspections, name="quality_inspections"),
    path("quality/draw/", quality.inspection_draw, name="quality_draw"),
    path("quality/inspections/<int:inspection_id>/", quality.inspection_detail, name="quality_inspection"),
    path(
        "quality/inspections/<int:inspection_id>/tasks/<int:task_id>/",
        quality.inspection_score,
        name="quality_score",
    ),
    path("quality/rectifications/", quality.rectifications, name="quality_rectifications"),
    path("visits/", nearby.visits, name="visits"),
    path("collections/", nearby.collections, name="collections"),
    path("service-points/", nearby.service_points, name="service_points"),
    path("", include("grid.urls")),  # /grids/… and /taxpayers/<credit code>/
    path("frontdesk/", include("frontdesk.urls")),
    path("middle-office/", include("middle_office.urls")),
    path("back-office/", include("back_office.urls")),
]
