from django.urls import path

from taxservice.api import (
    absence_views,
    approval_views,
    calendar_views,
    change_views,
    classification_views,
    fieldcheck_views,
    grid_views,
    hub_views,
    inbox_views,
    ladder_views,
    nearby_views,
    quality_views,
    team_views,
    views,
    webhook_views,
)
from taxservice.api.routers import ApiRouter  # also registers the `id` path converter

router = ApiRouter()
router.register("taxpayers", grid_views.TaxpayerWithGridViewSet, basename="taxpayer")
router.register("catalogue/items", views.ItemViewSet, basename="item")
router.register("cases", views.CaseViewSet, basename="case")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("staff", hub_views.StaffViewSet, basename="staff")
router.register("routing/rules", hub_views.RoutingRuleViewSet, basename="routing-rule")
router.register("hub/uploads", hub_views.UploadViewSet, basename="upload")
router.register("notifications", inbox_views.NotificationViewSet, basename="notification")
router.register("grids/imports", grid_views.GridImportViewSet, basename="grid-import")
router.register("grids", grid_views.GridViewSet, basename="grid")
router.register("service-points", nearby_views.ServicePointViewSet, basename="service-point")
router.register("visits", nearby_views.VisitViewSet, basename="visit")
router.register("collections", nearby_views.CollectionViewSet, basename="collection")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("changes/", change_views.ChangeListView.as_view(), name="api-changes"),
    path("hub/queue/", hub_views.HubQueueView.as_view(), name="api-hub-queue"),
    path("calendar/", calendar_views.CalendarView.as_view(), name="api-calendar"),
    path("calendar/overrides/", calendar_views.OverrideListView.as_view(), name="api-calendar-overrides"),
    path("calendar/overrides/<str:date>/", calendar_views.OverrideDetailView.as_view(), name="api-calendar-override"),
    path(
        "calendar/recomputes/<id:run_id>/", calendar_views.RecomputeDetailView.as_view(), name="api-calendar-recompute"
    ),
    path("notices/", ladder_views.NoticeListView.as_view(), name="api-notices"),
    path("staff/<id:staff_id>/conflicts/", absence_views.ConflictListView.as_view(), name="api-staff-conflicts"),
    path(
        "staff/<id:staff_id>/conflicts/<id:conflict_id>/withdraw/",
        absence_views.ConflictWithdrawView.as_view(),
        name="api-staff-conflict-withdraw",
    ),
    path("staff/<id:staff_id>/leave/", absence_views.LeaveListView.as_view(), name="api-staff-leave"),
    path(
        "staff/<id:staff_id>/leave/<id:leave_id>/withdraw/",
        absence_views.LeaveWithdrawView.as_view(),
        name="api-staff-leave-withdraw",
    ),
    path("teams/", team_views.TeamListView.as_view(), name="api-teams"),
    path("teams/<id:team_id>/members/", team_views.TeamMembersView.as_view(), name="api-team-members"),
    path("approvals/", approval_views.ApprovalListView.as_view(), name="api-approvals"),
    path("approvals/bulk/", approval_views.BulkApprovalView.as_view(), name="api-approvals-bulk"),
    path("delegations/", approval_views.DelegationListView.as_view(), name="api-delegations"),
    path(
        "delegations/<id:delegation_id>/revoke/",
        approval_views.DelegationRevokeView.as_view(),
        name="api-delegation-revoke",
    ),
    path("tasks/<id:task_id>/reminders/", approval_views.TaskReminderView.as_view(), name="api-task-reminders"),
    path("cases/<id:case_id>/feedback/", quality_views.CaseFeedbackView.as_view(), name="api-case-feedback"),
    path("cases/<id:case_id>/rating/", quality_views.CaseRatingView.as_view(), name="api-case-rating"),
    path(
        "cases/<id:case_id>/return-visits/", quality_views.CaseReturnVisitsView.as_view(), name="api-case-return-visits"
    ),
    path("inspections/", quality_views.InspectionListView.as_view(), name="api-inspections"),
    path("inspections/<id:inspection_id>/", quality_views.InspectionDetailView.as_view(), name="api-inspection"),
    path(
        "inspections/<id:inspection_id>/results/",
        quality_views.InspectionResultsView.as_view(),
        name="api-inspection-results",
    ),
    path("rectifications/", quality_views.RectificationListView.as_view(), name="api-rectifications"),
    path(
        "tasks/<id:task_id>/field-checks/", fieldcheck_views.TaskFieldCheckListView.as_view(), name="api-field-checks"
    ),
    path(
        "field-check-attachments/<id:attachment_id>/",
        fieldcheck_views.FieldCheckAttachmentView.as_view(),
        name="api-field-check-attachment",
    ),
    path("classification/rules/", classification_views.RulesView.as_view(), name="api-classification-rules"),
    path("classification/runs/", classification_views.RunListView.as_view(), name="api-classification-runs"),
    path(
        "classification/runs/<id:run_id>/",
        classification_views.RunDetailView.as_view(),
        name="api-classification-run",
    ),
    path("webhooks/", webhook_views.SubscriptionListView.as_view(), name="api-webhooks"),
    path("webhooks/<id:subscription_id>/", webhook_views.SubscriptionDetailView.as_view(), name="api-webhook"),
    path(
        "webhooks/<id:subscription_id>/deliveries/",
        webhook_views.DeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/deliveries/<id:delivery_id>/replay/",
        webhook_views.DeliveryReplayView.as_view(),
        name="api-webhook-delivery-replay",
    ),
    *router.urls,
]
