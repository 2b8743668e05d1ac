"""API v1 for the hub: intake from other lines, staff, routing rules, the hub queue, dispatch."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice import access
from taxservice.api import serializers as s
from taxservice.api.permissions import request_staff, requires
from taxservice.errors import InvalidInput
from taxservice.org.models import Staff, Tier
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.workflow.cases import selectors
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing import selectors as hub_selectors
from taxservice.workflow.routing import services as hub_services
from taxservice.workflow.routing.models import RoutingRule, UploadBatch
from taxservice.workflow.routing.uploads import MAX_BYTES, upload_progress, upload_refuse_large, upload_start


class StaffViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Staff with their teams, duty and load (coordinators and administrators, as on the hub's staff page)."""

    permission_classes = [requires(access.can_use_hub)]
    serializer_class = s.StaffSerializer
    queryset = Staff.objects.none()

    def get_queryset(self):
        qs = hub_selectors.staff_with_load().order_by("id")
        params = self.request.query_params
        if params.get("team"):
            qs = qs.filter(teams__code=params["team"])
        if params.get("on_duty") in {"true", "false"}:
            qs = qs.filter(on_duty=params["on_duty"] == "true")
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="team code"),
            OpenApiParameter("on_duty", bool),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class RoutingRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Routing rules. Every change needs a reason and is versioned (see `changes`). Coordinators
    and administrators, as on the hub's rules page."""

    permission_classes = [requires(access.can_use_hub)]
    serializer_class = s.RoutingRuleSerializer
    queryset = RoutingRule.objects.select_related("match_item", "match_district", "team").order_by("priority", "id")
    pagination_class = None

    @extend_schema(request=s.RoutingRuleWriteSerializer, responses={201: s.RoutingRuleSerializer})
    def create(self, request):
        data = s.RoutingRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = hub_services.rule_save(
            actor=request_staff(request),
            changes=dict(data.validated_data["changes"]),
            reason=data.validated_data["reason"],
        )
        return Response(s.RoutingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.RoutingRuleWriteSerializer,
        responses={200: s.RoutingRuleSerializer},
        description="Change a rule. An empty `changes` answers 400 `nothing_to_change` and writes no version.",
    )
    def partial_update(self, request, pk=None):
        data = s.RoutingRuleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = hub_services.rule_save(
            actor=request_staff(request),
            rule_id=int(pk),
            changes=dict(data.validated_data["changes"]),
            reason=data.validated_data["reason"],
        )
        return Response(s.RoutingRuleSerializer(rule).data)


class HubQueueView(APIView):
    """The hub's list (queued tasks by default; any hub state), alerts first, then oldest first,
    with facet counts by state, team, source, age, due and alert. Each count is the length
    of the list that filter would give, the other filters applied (as on the dashboard).
    Coordinators and administrators, as the hub's page."""

    permission_classes = [requires(access.can_use_hub)]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=[str(state) for state in hub_selectors.HUB_STATES],
                description="queued (default), assigned, in_progress, awaiting_materials, awaiting_approval",
            ),
            OpenApiParameter("team", str, description="team code; '-' for tasks without a team"),
            OpenApiParameter("source", str, enum=Task.Source.values),
            OpenApiParameter("tier", str, enum=Tier.values),
            OpenApiParameter("alerts", bool, description="only tasks with an open alert"),
            OpenApiParameter(
                "age",
                str,
                enum=[bucket for bucket, _label in hub_selectors.AGE_BUCKETS],
                description="lt1, 1to3 or gt3 (days since the task came in)",
            ),
            OpenApiParameter("due", str, enum=[bucket for bucket, _label in hub_selectors.DUE_BUCKETS]),
            OpenApiParameter(
                "older_than_hours",
                OpenApiTypes.INT,
                description=f"0 to {hub_selectors.MAX_OLDER_THAN_HOURS} (a century)",
            ),
            OpenApiParameter("due_before", OpenApiTypes.DATETIME, description="ISO date-time"),
            OpenApiParameter("facets", bool, description="include the facet counts (default true)"),
        ],
        responses=s.HubQueuePageSerializer,
    )
    def get(self, request):
        staff = request_staff(request)
        try:
            filters = hub_selectors.clean_hub_filters(request.query_params)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        clock = hub_selectors.Clock.at(timezone.now())
        qs = hub_selectors.hub_tasks(staff=staff, filters=filters, clock=clock)
        paginator = IdFirstPageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = s.TaskSerializer(page, many=True, context={"staff": staff, "request": request}).data
        response = paginator.get_paginated_response(data)
        if request.query_params.get("facets", "true").lower() not in ("false", "0"):
            facets = hub_selectors.hub_facets(staff=staff, filters=filters, clock=clock)
            response.data["facets"] = {
                name: [{"value": f.value, "label": f.label, "count": f.count} for f in values]
                for name, values in facets.items()
            }
        return response


class TaskIntakeMixin:
    """`POST /api/v1/tasks/`: push a task in from another business line."""

    @extend_schema(
        request=s.TaskIntakeSerializer,
        responses={201: s.TaskDetailSerializer, 200: s.TaskDetailSerializer},
        description="Creates and screens a task (201), or merges it into the open task for the same taxpayer "
        "and item (200, `merged: true`).",
    )
    def create(self, request):
        data = s.TaskIntakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task, merged = hub_services.task_intake(actor=request_staff(request), **data.validated_data)
        body = dict(s.TaskDetailSerializer(self._reload(task), context=self.get_serializer_context()).data)
        body["merged"] = merged
        return Response(body, status=status.HTTP_200_OK if merged else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.DispatchDecisionSerializer})
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def run_dispatch(self, request, pk=None):
        # Not named `dispatch`: that is APIView's request entry point.
        """Run the dispatch pipeline for a queued task now (coordinators and branch chiefs)."""
        staff = request_staff(request)
        if not selectors.task_list_for_staff(staff=staff).filter(pk=pk).exists():
            raise NotFound("No such task, or not one of yours.")
        decision = hub_services.task_dispatch(task_id=int(pk), actor=staff)
        return Response(s.DispatchDecisionSerializer(decision).data)

    def _reload(self, task):
        return Task.objects.select_related(*selectors.TASK_RELATED).get(pk=task.pk)


class UploadViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk upload of tasks: POST a file (202), then GET the batch for progress and errors."""

    serializer_class = s.UploadBatchSerializer
    queryset = UploadBatch.objects.none()
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return UploadBatch.objects.none()
        staff = request_staff(self.request)
        qs = UploadBatch.objects.all()
        return qs if staff.sees_everything else qs.filter(uploaded_by=staff)

    def retrieve(self, request, *args, **kwargs):
        batch = self.get_object()
        processed, _total = upload_progress(batch)
        batch.processed_rows = processed
        return Response(s.UploadBatchSerializer(batch).data)

    def initial(self, request, *args, **kwargs):
        # Before authentication, which may parse the body (a session's CSRF check): a body
        # that says it is too large is refused unread (413, `file_too_large`).
        if request.method == "POST":
            upload_refuse_large(content_length=request.META.get("CONTENT_LENGTH"))
        return super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.UploadRequestSerializer},
        responses={202: s.UploadBatchSerializer},
        description="A CSV or XLSX file of at most 5 MB; a larger one is refused before it is read (413).",
    )
    def create(self, request):
        data = s.UploadRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        upload_refuse_large(file_size=upload.size)
        batch = upload_start(actor=request_staff(request), filename=upload.name, content=upload.read(MAX_BYTES + 1))
        batch.refresh_from_db()
        return Response(s.UploadBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
