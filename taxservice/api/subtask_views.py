"""`GET`/`POST /api/v1/tasks/{id}/subtasks/`: joint handling (一问联办) through sub-tasks.

One service with the browser (`workflow.cases.services.subtask_open`); the list is the
task's sub-tasks the caller may see, with their team, holder, state, due time and result.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from taxservice.api.permissions import request_staff
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import Task


class SubtaskRequestSerializer(serializers.Serializer):
    team = serializers.CharField(max_length=48, help_text="The code of the team that takes the sub-task.")
    note = serializers.CharField(
        max_length=services.SUBTASK_NOTE_MAX, help_text="What the other team must do (required)."
    )
    days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=services.SUBTASK_MAX_DAYS,
        help_text="Its time limit in working days; the item's handling limit by default.",
    )


class SubtaskSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    assignee_name = serializers.CharField(source="assignee.name", read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "parent",
            "team",
            "team_name",
            "assignee",
            "assignee_name",
            "state",
            "note",
            "due_at",
            "result",
            "created_at",
        ]


ERRORS = {
    400: OpenApiResponse(description="Bad input (`note_required`, `unknown_team`, `same_team`, `invalid`)."),
    403: OpenApiResponse(description="Only the task's holder or a supervisor opens sub-tasks."),
    404: OpenApiResponse(description="No such task, or not one the caller may see."),
    409: OpenApiResponse(description="The task is not under way (`parent_not_in_progress`)."),
}


class TaskSubtasksMixin:
    """Added to the task viewset: the `subtasks` action."""

    @extend_schema(
        methods=["GET"],
        responses={200: SubtaskSerializer(many=True), 404: ERRORS[404]},
        description="The task's sub-tasks, oldest first, with their results.",
    )
    @extend_schema(
        methods=["POST"],
        request=SubtaskRequestSerializer,
        responses={201: SubtaskSerializer, **ERRORS},
        description="Open a sub-task for another team, branch or department. The robot dispatches it in "
        "that team. The parent cannot complete or be submitted while it is open (409 `subtasks_open`).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a plain list, as the schema says
    def subtasks(self, request, pk=None):
        staff = request_staff(request)
        parent = selectors.task_get_for_staff(staff=staff, task_id=int(pk))
        if parent is None:
            raise NotFound("No such task, or not one of yours.")
        if request.method == "POST":
            data = SubtaskRequestSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            sub = services.subtask_open(
                actor=staff,
                parent_id=parent.pk,
                team_code=data.validated_data["team"],
                note=data.validated_data["note"],
                days=data.validated_data.get("days"),
            )
            sub = Task.objects.select_related("team", "assignee").get(pk=sub.pk)
            return Response(SubtaskSerializer(sub).data, status=status.HTTP_201_CREATED)
        return Response(SubtaskSerializer(selectors.subtasks_of(staff=staff, task=parent), many=True).data)
