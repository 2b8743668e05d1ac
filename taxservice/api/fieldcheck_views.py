"""API v1 for field checks (实地核查) on a task: record one (multipart, with files), list a
task's checks (paginated, with download URLs), download an attachment. Views parse, call
`taxservice.workflow.fieldchecks` and render; refusals are JSON with a `code`
(taxservice/api/errors.py). A task or file the caller may not see is 404, as if absent."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from taxservice.api.permissions import request_staff
from taxservice.errors import NotFound
from taxservice.web.fieldchecks import attachment_response
from taxservice.workflow.fieldchecks import selectors, services
from taxservice.workflow.fieldchecks.models import (
    FINDINGS_MAX_CHARS,
    PLACE_MAX_CHARS,
    FieldCheck,
    FieldCheckAttachment,
)


class FieldCheckErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `attachment_type`, `attachment_too_large`, "
        "`too_many_attachments`, `staff_not_allowed`, `permission_denied`, `not_found`, `task_not_open`."
    )
    detail = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input (`files` for the attachments).",
    )


class FieldCheckAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True, help_text="The uploaded file's name.")
    download_url = serializers.SerializerMethodField(help_text="Where the caller downloads the file.")

    class Meta:
        model = FieldCheckAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment: FieldCheckAttachment) -> str:
        return reverse("api-field-check-attachment", args=[attachment.pk], request=self.context.get("request"))


class FieldCheckStaffSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class FieldCheckSerializer(serializers.ModelSerializer):
    staff = FieldCheckStaffSerializer(many=True, read_only=True, help_text="Who went.")
    recorded_by_name = serializers.CharField(source="recorded_by.name", read_only=True)
    attachments = FieldCheckAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = FieldCheck
        fields = [
            "id",
            "task",
            "place",
            "visited_on",
            "staff",
            "findings",
            "result",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
            "attachments",
        ]
        read_only_fields = fields


class FieldCheckCreateSerializer(serializers.Serializer):
    place = serializers.CharField(max_length=PLACE_MAX_CHARS, help_text="Where the check was made.")
    visited_on = serializers.DateField(help_text="The day of the visit; not in the future.")
    findings = serializers.CharField(max_length=FINDINGS_MAX_CHARS, help_text="What was found.")
    result = serializers.ChoiceField(choices=FieldCheck.Result.choices)
    staff = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Who went (staff ids, each one who sees the task); the caller when left out.",
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        help_text="Attachments (repeat the part; `files[]` is accepted too): PDF, JPEG or PNG by content, at most "
        f"{services.MAX_ATTACHMENTS} files, each at most TAXSERVICE_FIELDCHECK_MAX_BYTES (10 MB by default).",
    )


ERRORS = {
    400: OpenApiResponse(FieldCheckErrorSerializer, description="Bad input or a refused attachment."),
    403: OpenApiResponse(FieldCheckErrorSerializer, description="Not the task's assignee or a supervisor."),
    404: OpenApiResponse(FieldCheckErrorSerializer, description="No such task, or not one the caller sees."),
    409: OpenApiResponse(FieldCheckErrorSerializer, description="The task is closed or cancelled (`task_not_open`)."),
}


class TaskFieldCheckListView(generics.ListAPIView):
    """A task's field checks (实地核查): list them, newest first (paginated), or record one."""

    serializer_class = FieldCheckSerializer
    queryset = FieldCheck.objects.none()  # for the schema; requests use get_queryset
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FieldCheck.objects.none()
        checks = selectors.field_check_list_for_staff(staff=request_staff(self.request), task_id=self.kwargs["task_id"])
        if checks is None:
            raise NotFound("No such task, or not one you may see.")
        return checks

    @extend_schema(responses={200: FieldCheckSerializer(many=True), 404: ERRORS[404]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": FieldCheckCreateSerializer, "application/json": FieldCheckCreateSerializer},
        responses={201: FieldCheckSerializer, **ERRORS},
    )
    def post(self, request, task_id: int):
        """Record a field check, with its attachments as `files` parts (multipart/form-data).
        Every file is checked before anything is stored; if one is refused nothing is written."""
        data = FieldCheckCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        check = services.field_check_record(
            actor=request_staff(request),
            task_id=task_id,
            place=values["place"],
            visited_on=values["visited_on"],
            findings=values["findings"],
            result=values["result"],
            staff_ids=values["staff"],
            # `files` parts, or `files[]` as some form libraries name a list.
            uploads=values["files"] or request.FILES.getlist("files[]"),
        )
        check = selectors.field_check_list(task=check.task_id).get(pk=check.pk)
        return Response(self.get_serializer(check).data, status=status.HTTP_201_CREATED)


class AnyMediaRenderer(JSONRenderer):
    """Lets a client that asks for the file's own type (Accept: application/pdf) through
    content negotiation; the file itself bypasses renderers, errors stay JSON."""

    media_type = "*/*"
    format = "file"


class FieldCheckAttachmentView(APIView):
    """Download a field-check attachment (Content-Disposition: attachment, original name)."""

    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:  # an error is JSON, whatever was asked
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            (404, "application/json"): ERRORS[404],
        }
    )
    def get(self, request, attachment_id: int):
        attachment = selectors.attachment_get_for_staff(staff=request_staff(request), attachment_id=attachment_id)
        if attachment is None:
            raise NotFound("No such file.")
        return attachment_response(attachment)
