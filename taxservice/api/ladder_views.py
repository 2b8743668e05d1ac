"""API v1 for the escalation ladder: the public notice list (通报)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from taxservice import access
from taxservice.api.permissions import request_staff
from taxservice.workflow.cases.models import Task
from taxservice.workflow.ladder.selectors import notice_list_for_staff


class NoticeSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True, help_text="The item's code.")
    item_name = serializers.CharField(source="item.name", read_only=True)
    taxpayer = serializers.CharField(source="taxpayer.credit_code", read_only=True)
    taxpayer_name = serializers.CharField(source="taxpayer.name", read_only=True)
    team = serializers.CharField(source="team.code", read_only=True, allow_null=True, default=None)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    assignee_name = serializers.CharField(source="assignee.name", read_only=True, allow_null=True, default=None)
    noticed_at = serializers.DateTimeField(read_only=True, help_text="When the notice (通报) step was sent.")

    class Meta:
        model = Task
        fields = [
            "id",
            "item",
            "item_name",
            "taxpayer",
            "taxpayer_name",
            "state",
            "team",
            "assignee",
            "assignee_name",
            "due_at",
            "clock",
            "clock_due_at",
            "noticed_at",
        ]
        read_only_fields = fields


class NoticeErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `permission_denied`.")
    detail = serializers.CharField()


class NoticeListView(generics.ListAPIView):
    """The public notice list (通报): open tasks that reached the ladder's notice step for
    their current due time, the longest overdue first, limited to the tasks the caller may
    see. For coordinators, branch chiefs and administrators."""

    serializer_class = NoticeSerializer
    queryset = Task.objects.none()  # for the schema; requests use get_queryset
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        staff = request_staff(self.request)
        access.require(access.can_see_notices, staff)
        return notice_list_for_staff(staff=staff)

    @extend_schema(responses={200: NoticeSerializer(many=True), 403: NoticeErrorSerializer})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
