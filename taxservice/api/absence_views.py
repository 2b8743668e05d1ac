"""API v1 for conflicts of interest (回避) and leave (docs/back-office.md, "Teams, conflicts
and leave"): `GET/POST /staff/{id}/conflicts/`, `GET/POST /staff/{id}/leave/` and their
withdrawals. A branch chief for the staff of their branch scope, or an administrator; anyone
else's staff is 404. Views parse, call `routing.services` (the same services as the page)
and render; refusals are JSON with a `code` (taxservice/api/errors.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice.api.permissions import request_staff
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.workflow.routing import selectors, services
from taxservice.workflow.routing.models import StaffConflict, StaffLeave


class AbsenceErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `reason_required`, `unknown_taxpayer`, `conflict_exists`, "
        "`invalid_period`, `leave_overlaps`, `already_withdrawn`, `permission_denied`, `not_found`, …"
    )
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


ERRORS = {
    400: OpenApiResponse(AbsenceErrorSerializer, description="Bad input; nothing is written."),
    403: OpenApiResponse(AbsenceErrorSerializer, description="Not a branch chief or an administrator."),
    404: OpenApiResponse(AbsenceErrorSerializer, description="No such staff member in the caller's branch scope."),
}
WITHDRAW_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(AbsenceErrorSerializer, description="Already withdrawn (`already_withdrawn`)."),
}


class _Declared(serializers.ModelSerializer):
    declared_by_name = serializers.CharField(source="declared_by.name", read_only=True, allow_null=True)
    withdrawn_by_name = serializers.CharField(source="withdrawn_by.name", read_only=True, allow_null=True)
    active = serializers.SerializerMethodField(help_text="Not withdrawn.")

    def get_active(self, row) -> bool:
        return row.withdrawn_at is None


class ConflictSerializer(_Declared):
    taxpayer = serializers.CharField(source="taxpayer.credit_code", help_text="Unified social credit code.")
    taxpayer_name = serializers.CharField(source="taxpayer.name")

    class Meta:
        model = StaffConflict
        fields = [
            "id",
            "staff",
            "taxpayer",
            "taxpayer_name",
            "reason",
            "declared_at",
            "declared_by",
            "declared_by_name",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_by_name",
            "withdrawal_reason",
            "active",
        ]


class LeaveSerializer(_Declared):
    class Meta:
        model = StaffLeave
        fields = [
            "id",
            "staff",
            "starts_on",
            "ends_on",
            "reason",
            "declared_at",
            "declared_by",
            "declared_by_name",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_by_name",
            "withdrawal_reason",
            "active",
        ]


class ConflictRequestSerializer(serializers.Serializer):
    taxpayer = serializers.CharField(max_length=18, help_text="The taxpayer's unified social credit code.")
    reason = serializers.CharField(max_length=200, help_text="Why the staff member must not handle it (e.g. 亲属关系).")


class LeaveRequestSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="The last day of leave: on or after `starts_on`; no overlap allowed.")
    reason = serializers.CharField(max_length=100)


class WithdrawRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ConflictListView(generics.GenericAPIView):
    """A staff member's declared conflicts of interest (current first), and declaring one."""

    serializer_class = ConflictSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = StaffConflict.objects.none()

    @extend_schema(responses={200: ConflictSerializer(many=True), **ERRORS})
    def get(self, request, staff_id):
        rows = selectors.conflict_list(actor=request_staff(request), staff_id=staff_id)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ConflictSerializer(page, many=True).data)

    @extend_schema(request=ConflictRequestSerializer, responses={201: ConflictSerializer, **ERRORS})
    def post(self, request, staff_id):
        staff = request_staff(request)
        selectors.absence_staff(actor=staff, staff_id=staff_id)  # 403/404 before a 400
        data = ConflictRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.conflict_declare(actor=staff, staff_id=staff_id, **data.validated_data)
        return Response(ConflictSerializer(row).data, status=status.HTTP_201_CREATED)


class ConflictWithdrawView(APIView):
    """End a declared conflict of interest (the record stays, marked withdrawn)."""

    @extend_schema(request=WithdrawRequestSerializer, responses={200: ConflictSerializer, **WITHDRAW_ERRORS})
    def post(self, request, staff_id, conflict_id):
        data = WithdrawRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.conflict_withdraw(
            actor=request_staff(request),
            staff_id=staff_id,
            conflict_id=conflict_id,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(ConflictSerializer(row).data)


class LeaveListView(generics.GenericAPIView):
    """A staff member's declared leave (current first), and declaring leave."""

    serializer_class = LeaveSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = StaffLeave.objects.none()

    @extend_schema(responses={200: LeaveSerializer(many=True), **ERRORS})
    def get(self, request, staff_id):
        rows = selectors.leave_list(actor=request_staff(request), staff_id=staff_id)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LeaveSerializer(page, many=True).data)

    @extend_schema(request=LeaveRequestSerializer, responses={201: LeaveSerializer, **ERRORS})
    def post(self, request, staff_id):
        staff = request_staff(request)
        selectors.absence_staff(actor=staff, staff_id=staff_id)
        data = LeaveRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.leave_declare(actor=staff, staff_id=staff_id, **data.validated_data)
        return Response(LeaveSerializer(row).data, status=status.HTTP_201_CREATED)


class LeaveWithdrawView(APIView):
    """End a declared leave early or cancel it (the record stays, marked withdrawn)."""

    @extend_schema(request=WithdrawRequestSerializer, responses={200: LeaveSerializer, **WITHDRAW_ERRORS})
    def post(self, request, staff_id, leave_id):
        data = WithdrawRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.leave_withdraw(
            actor=request_staff(request),
            staff_id=staff_id,
            leave_id=leave_id,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(LeaveSerializer(row).data)
