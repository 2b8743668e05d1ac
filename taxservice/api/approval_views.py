"""API v1 for the chief's desk (docs/back-office.md): the approvals the caller may decide
now, bulk approval of one item's tasks, delegations to a deputy, and reminders (催办 /
督办) to a task's holder. Views parse, call `workflow.cases.desk` (the same services as the
pages) and render; refusals are JSON with a `code` (taxservice/api/errors.py)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice import access
from taxservice.api import serializers as s
from taxservice.api.permissions import request_staff
from taxservice.org.models import Delegation
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.web.queries import decidable_approvals_for_staff
from taxservice.workflow.cases import desk, selectors
from taxservice.workflow.cases.models import Task, TaskTransition, current_approval_step
from taxservice.workflow.cases.services import BulkRefused


class DeskErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `no_tasks`, `mixed_items`, `bulk_refused`, `no_assignee`, "
        "`task_not_open`, `message_required`, `unknown_kind`, `ends_before_start`, `too_long`, `deputy_is_chief`, "
        "`deputy_outside_branch`, `already_revoked`, `permission_denied`, `not_found`, …"
    )
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class RefusalSerializer(serializers.Serializer):
    task = serializers.IntegerField(source="task_id", help_text="The task that blocks the bulk action.")
    code = serializers.CharField(help_text="Why, as the single-task step would answer (`permission_denied`, …).")
    detail = serializers.CharField()


class BulkRefusedSerializer(DeskErrorSerializer):
    refusals = RefusalSerializer(many=True, help_text="Each blocking task; nothing was written.")


ERRORS = {
    400: DeskErrorSerializer,
    403: DeskErrorSerializer,
    404: DeskErrorSerializer,
}


# --- the approvals to decide ---------------------------------------------------------------------


class ApprovalSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    assignee_name = serializers.CharField(source="assignee.name", read_only=True, allow_null=True)
    step = serializers.SerializerMethodField(help_text="The approval step waiting now (1-based).")
    of = serializers.IntegerField(source="item.approval_levels", read_only=True, help_text="The item's steps.")
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    waited_seconds = serializers.SerializerMethodField(help_text="Since it was last submitted for approval.")

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "item",
            "item_name",
            "taxpayer",
            "team",
            "assignee",
            "assignee_name",
            "result",
            "step",
            "of",
            "submitted_at",
            "waited_seconds",
            "due_at",
            "clock_due_at",
        ]
        extra_kwargs = {"result": {"help_text": "The result being approved."}}

    def get_step(self, task: Task) -> int:
        return current_approval_step(task)

    def get_waited_seconds(self, task: Task) -> int | None:
        submitted = getattr(task, "submitted_at", None)
        return None if submitted is None else max(0, int((timezone.now() - submitted).total_seconds()))


class ApprovalListView(generics.GenericAPIView):
    """What the caller may decide now: tasks awaiting approval whose `approve` they may make
    (their step, four eyes, a running delegation), the most urgent first."""

    serializer_class = ApprovalSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = Task.objects.none()

    @extend_schema(responses={200: ApprovalSerializer(many=True), 403: DeskErrorSerializer})
    def get(self, request):
        staff = request_staff(request)
        access.require(access.can_use_approvals, staff)
        page = self.paginate_queryset(decidable_approvals_for_staff(staff=staff))
        return self.get_paginated_response(ApprovalSerializer(page, many=True).data)


class BulkApprovalRequestSerializer(serializers.Serializer):
    task_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    opinion = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    decision = serializers.ChoiceField(choices=["approve"], default="approve", help_text="Only `approve` in bulk.")


class BulkApprovalView(APIView):
    """Approve several tasks of one item with one opinion: all or nothing. 409
    `bulk_refused` lists each blocking task (nothing is written); 400 `mixed_items` when the
    tasks are of more than one item."""

    @extend_schema(
        request=BulkApprovalRequestSerializer,
        responses={
            200: s.TaskSerializer(many=True),
            **ERRORS,
            409: OpenApiResponse(BulkRefusedSerializer, description="Nothing written; `refusals` names the blockers."),
        },
    )
    def post(self, request):
        staff = request_staff(request)
        access.require(access.can_use_approvals, staff)
        data = BulkApprovalRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = desk.approve_many(
                actor=staff, task_ids=data.validated_data["task_ids"], opinion=data.validated_data["opinion"]
            )
        except BulkRefused as refused:
            body = {
                "code": "bulk_refused",
                "detail": refused.detail,
                "refusals": RefusalSerializer(refused.refusals, many=True).data,
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(s.TaskSerializer(done, many=True, context={"staff": staff}).data)


# --- delegations ---------------------------------------------------------------------------------


class DelegationSerializer(serializers.ModelSerializer):
    chief_name = serializers.CharField(source="chief.name", read_only=True)
    deputy_name = serializers.CharField(source="deputy.name", read_only=True)
    active = serializers.SerializerMethodField(help_text="Running now (started, not ended, not revoked).")

    class Meta:
        model = Delegation
        fields = [
            "id",
            "chief",
            "chief_name",
            "deputy",
            "deputy_name",
            "starts_at",
            "ends_at",
            "reason",
            "created_by",
            "created_at",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
            "active",
        ]

    def get_active(self, row: Delegation) -> bool:
        return row.active_at(timezone.now())


class DelegationRequestSerializer(serializers.Serializer):
    deputy = serializers.IntegerField(help_text="The deputy's staff id: staff of the chief's branch.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text=f"After `starts_at`, at most {desk.DELEGATION_MAX_DAYS} days later.")
    reason = serializers.CharField(max_length=desk.DELEGATION_REASON_MAX)
    chief = serializers.IntegerField(required=False, help_text="Administrators only: the chief; yourself by default.")


class DelegationListView(generics.GenericAPIView):
    """Delegations I gave or hold (administrators: all), and naming a deputy: a branch chief
    for themselves, an administrator for any chief."""

    serializer_class = DelegationSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = Delegation.objects.none()

    @extend_schema(responses={200: DelegationSerializer(many=True)})
    def get(self, request):
        staff = request_staff(request)
        page = self.paginate_queryset(selectors.delegations_for_staff(staff=staff))
        return self.get_paginated_response(DelegationSerializer(page, many=True).data)

    @extend_schema(request=DelegationRequestSerializer, responses={201: DelegationSerializer, **ERRORS})
    def post(self, request):
        staff = request_staff(request)
        data = DelegationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        row = desk.delegation_create(
            actor=staff,
            chief_id=values.get("chief"),
            deputy_id=values["deputy"],
            starts_at=values["starts_at"],
            ends_at=values["ends_at"],
            reason=values["reason"],
        )
        return Response(DelegationSerializer(row).data, status=status.HTTP_201_CREATED)


class RevokeRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=desk.DELEGATION_REASON_MAX)


class DelegationRevokeView(APIView):
    """End a delegation early (its chief or an administrator), with a reason. 409
    `already_revoked` / `already_ended`."""

    @extend_schema(
        request=RevokeRequestSerializer, responses={200: DelegationSerializer, **ERRORS, 409: DeskErrorSerializer}
    )
    def post(self, request, delegation_id):
        staff = request_staff(request)
        data = RevokeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = desk.delegation_revoke(actor=staff, delegation_id=delegation_id, reason=data.validated_data["reason"])
        return Response(DelegationSerializer(row).data)


# --- reminders -----------------------------------------------------------------------------------


class ReminderRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(desk.REMINDER_KINDS), help_text="`urge` 催办 or `supervise` 督办.")
    message = serializers.CharField(max_length=desk.REMINDER_MAX_CHARS)


class ReminderSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="transition")
    message = serializers.CharField(source="reason")
    actor_name = serializers.CharField(source="actor.name")

    class Meta:
        model = TaskTransition
        fields = ["id", "task", "kind", "message", "actor", "actor_name", "at"]


class TaskReminderView(APIView):
    """A branch chief (or coordinator) of the task's scope urges (催办) or supervises (督办) its
    holder: a history row and a notification in the holder's inbox, together. 409
    `no_assignee` when nobody holds the task."""

    @extend_schema(
        request=ReminderRequestSerializer,
        responses={201: ReminderSerializer, **ERRORS, 409: DeskErrorSerializer},
    )
    def post(self, request, task_id):
        staff = request_staff(request)
        data = ReminderRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        log = desk.reminder_send(
            actor=staff, task_id=task_id, kind=data.validated_data["kind"], message=data.validated_data["message"]
        )
        return Response(ReminderSerializer(log).data, status=status.HTTP_201_CREATED)
