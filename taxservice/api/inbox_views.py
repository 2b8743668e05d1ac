"""API v1 for the caller's inbox: their notifications, and marking them read.

Every caller sees only their own notifications. Someone else's id answers 404 like an
id that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from taxservice.api.permissions import request_staff
from taxservice.errors import InvalidInput, NotFound
from taxservice.workflow.cases.inbox import (
    notification_list_for_staff,
    notification_mark_all_read,
    notification_mark_read,
)
from taxservice.workflow.cases.models import Notification

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_MAX_ID = 2**63 - 1  # the id column is a bigint


class NotificationSerializer(serializers.ModelSerializer):
    task = serializers.IntegerField(source="task_id", read_only=True, help_text="The task's id: /api/v1/tasks/{task}/.")
    transition = serializers.CharField(
        source="transition_name",
        read_only=True,
        help_text="The step that caused it, e.g. `assign`, `approve`, `reject`; `note` for a note that mentions the caller.",
    )

    class Meta:
        model = Notification
        fields = ["id", "task", "transition", "message", "created_at", "read_at"]
        read_only_fields = fields


class NotificationErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `not_found`.")
    detail = serializers.CharField()


MarkedAllSerializer = inline_serializer(
    "NotificationsMarkedRead", {"marked": serializers.IntegerField(help_text="How many were unread.")}
)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's notifications, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notification_list_for_staff(staff=request_staff(self.request), unread_only=_unread_only(self.request))

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="`true`: only the unread ones.")],
        responses={200: NotificationSerializer(many=True), 400: NotificationErrorSerializer},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={200: NotificationSerializer, 404: NotificationErrorSerializer},
        description="Mark one notification read. Marking it again changes nothing (its `read_at` stays). "
        "404 for an id that is not the caller's.",
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notification_mark_read(staff=request_staff(request), notification_id=_notification_id(pk))
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses={200: MarkedAllSerializer},
        description="Mark every unread notification of the caller read.",
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notification_mark_all_read(staff=request_staff(request))})


def _unread_only(request: Request) -> bool:
    raw = request.query_params.get("unread", "false").lower()
    if raw not in _BOOLEANS:
        raise InvalidInput(_("“unread” is true or false."), fields={"unread": [_("Enter true or false.")]})
    return _BOOLEANS[raw]


def _notification_id(raw: str | None) -> int:
    if raw is None or not raw.isdigit() or int(raw) > _MAX_ID:
        raise NotFound(_("No such notification %(id)s.") % {"id": raw})
    return int(raw)
