"""API v1 for the generic change log: who changed what, for administrators."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from taxservice import access
from taxservice.api.permissions import request_staff
from taxservice.changes.models import ChangeLog
from taxservice.changes.selectors import change_list
from taxservice.errors import InvalidInput


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField(help_text="The object's type, `app_label.model` (e.g. `org.staff`).")
    changes = serializers.JSONField(read_only=True, help_text="Only the fields that changed: {field: [before, after]}.")
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True, help_text="Null: the system.")

    class Meta:
        model = ChangeLog
        fields = ["id", "type", "object_id", "object_label", "action", "changes", "reason", "actor", "actor_name", "at"]
        read_only_fields = fields

    def get_type(self, row: ChangeLog) -> str:
        return f"{row.content_type.app_label}.{row.content_type.model}"


class ChangeLogErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `permission_denied`, `invalid_input`.")
    detail = serializers.CharField()
    fields = serializers.DictField(required=False, help_text="The parameters that were refused, with why.")


class ChangeListView(generics.ListAPIView):
    """The change log, newest first: every audited change (staff, duty, teams, branches,
    items, taxpayers, the robot's pause), optionally of one type of object (`type`) or of
    one object (`type` and `id`). Administrators only."""

    serializer_class = ChangeLogEntrySerializer
    queryset = ChangeLog.objects.none()  # for the schema; requests use get_queryset
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeLog.objects.none()
        access.require(access.is_admin, request_staff(self.request))
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        content_type = None
        if params.get("type"):
            app_label, _dot, model = params["type"].lower().partition(".")
            content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
            if content_type is None:
                errors["type"] = [_("Unknown type; give app_label.model, e.g. org.staff.")]
        object_id = None
        if params.get("id"):
            if not params["id"].isdigit():
                errors["id"] = [_("A whole number.")]
            elif not params.get("type"):
                errors["id"] = [_("Give the type with the id.")]
            else:
                object_id = int(params["id"])
        if errors:
            raise InvalidInput(_("The change log filter was not understood."), fields=errors)
        return change_list(content_type=content_type, object_id=object_id)

    @extend_schema(
        parameters=[
            OpenApiParameter("type", OpenApiTypes.STR, description="`app_label.model`, e.g. `org.staff`."),
            OpenApiParameter("id", OpenApiTypes.INT, description="The object's id (with `type`)."),
        ],
        responses={
            200: ChangeLogEntrySerializer(many=True),
            400: ChangeLogErrorSerializer,
            403: ChangeLogErrorSerializer,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
