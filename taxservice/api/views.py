"""API v1 views: parse, call a service or selector, render. No business logic here."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice.api import serializers as s
from taxservice.api.filters import ItemFilter, TaskFilter
from taxservice.api.hub_views import TaskIntakeMixin
from taxservice.api.permissions import request_staff
from taxservice.api.subtask_views import TaskSubtasksMixin
from taxservice.catalogue.models import Item
from taxservice.taxpayers.selectors import taxpayer_search
from taxservice.taxpayers.services import taxpayer_register
from taxservice.workflow.cases import selectors, services
from taxservice.workflow.cases.models import Case, Task, TaskTransition


class StaffContextMixin:
    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["staff"] = request_staff(self.request)
        return context


class TaxpayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Taxpayers, found by credit code or name (`?q=`), registered with a validated code."""

    serializer_class = s.TaxpayerSerializer
    lookup_field = "credit_code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return taxpayer_search(query=self.request.query_params.get("q", ""))

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="credit code prefix or part of the name (any case)")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.TaxpayerCreateSerializer, responses={201: s.TaxpayerSerializer})
    def create(self, request):
        data = s.TaxpayerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        taxpayer = taxpayer_register(
            actor=request_staff(request),
            credit_code=data.validated_data["credit_code"],
            name=data.validated_data["name"],
            competent_branch_code=data.validated_data["competent_branch"],
            classification=data.validated_data["classification"],
            grade=data.validated_data["grade"],
        )
        return Response(s.TaxpayerSerializer(taxpayer).data, status=status.HTTP_201_CREATED)


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The item catalogue (事项清单)."""

    serializer_class = s.ItemSerializer
    queryset = Item.objects.filter(active=True).order_by("code")
    filterset_class = ItemFilter
    lookup_field = "code"


class CaseViewSet(StaffContextMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Cases (one taxpayer contact each) with their tasks."""

    serializer_class = s.CaseSerializer

    queryset = Case.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        tasks = Task.objects.select_related(*selectors.TASK_RELATED).order_by("id")
        return selectors.case_list_for_staff(staff=request_staff(self.request)).prefetch_related(
            Prefetch("tasks", queryset=tasks)
        )

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseSerializer})
    def create(self, request):
        data = s.CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        staff = request_staff(request)
        case = services.case_open(
            actor=staff,
            taxpayer=data.validated_data["taxpayer"],
            channel=data.validated_data["channel"],
            hall=data.validated_data["hall"],
            service_point=data.validated_data["service_point"],
            scenario=data.validated_data["scenario"],
            reference=data.validated_data["reference"],
            notes=data.validated_data["notes"],
            items=[services.RequestedItem(**row) for row in data.validated_data["items"]],
        )
        # Reload through the selector's prefetches; the creator may not see a case it
        # routed elsewhere (an integrator), so fall back to the created row.
        case = self.get_queryset().filter(pk=case.pk).first() or case
        return Response(self.get_serializer(case).data, status=status.HTTP_201_CREATED)


def require_visible_task(staff, pk) -> None:  # a Staff and the URL's id
    """404 for a task the caller may not see, or an id that is no number, before anything else."""
    if not str(pk).isdigit() or not selectors.task_list_for_staff(staff=staff).filter(pk=pk).exists():
        raise NotFound("No such task, or not one of yours.")


class TaskNotesMixin:
    """`GET`/`POST /api/v1/tasks/{id}/notes/`: the internal notes on a task the caller may see."""

    @extend_schema(
        methods=["GET"],
        responses={200: s.TaskNoteSerializer(many=True)},
        description="The task's notes, oldest first.",
    )
    @extend_schema(
        methods=["POST"],
        request=s.TaskNoteRequestSerializer,
        responses={201: s.TaskNoteSerializer},
        description="Add a note. `@username` mentions land in those people's inboxes; a mention of someone "
        "unknown or who may not see the task answers 400 (`bad_mention`) and adds nothing.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a plain list, as the schema says
    def notes(self, request, pk=None):
        staff = request_staff(request)
        require_visible_task(staff, pk)
        if request.method == "POST":
            data = s.TaskNoteRequestSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.task_comment_add(actor=staff, task_id=int(pk), body=data.validated_data["body"])
            return Response(s.TaskNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        task = Task.objects.get(pk=pk)
        return Response(s.TaskNoteSerializer(selectors.task_comments(task=task), many=True).data)


class TaskViewSet(
    TaskNotesMixin,
    TaskSubtasksMixin,
    TaskIntakeMixin,
    StaffContextMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks the caller may see; `transitions` moves one through its life cycle."""

    filterset_class = TaskFilter
    queryset = Task.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        qs = selectors.task_list_for_staff(staff=request_staff(self.request))
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("transitions", queryset=TaskTransition.objects.select_related("actor").order_by("at", "id"))
            )
        return qs

    def get_serializer_class(self):
        if self.action == "create":
            return s.TaskIntakeSerializer
        return s.TaskDetailSerializer if self.action in {"retrieve", "transitions"} else s.TaskSerializer

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="Transition",
            serializers=s.TRANSITION_REQUESTS,
            resource_type_field_name="transition",
        ),
        responses={200: s.TaskDetailSerializer},
        description="Make a transition. 409 when not allowed from the current state or changed by someone "
        "else first; 403 when the caller may not make it.",
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        staff = request_staff(request)
        require_visible_task(staff, pk)
        name = s.TransitionNameSerializer(data=request.data)
        name.is_valid(raise_exception=True)
        data = s.TRANSITION_REQUESTS[name.validated_data["transition"]](data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.task_transition(
            task_id=int(pk),
            actor=staff,
            name=values["transition"],
            reason=values.get("reason", ""),
            result=values.get("result", ""),
            assignee_id=values.get("assignee"),
            channel=values.get("channel", ""),
            team_code=values.get("team", ""),
            days=values.get("days"),
            expected_state=values["expected_state"],
        )
        task = (
            self.get_queryset()
            .prefetch_related(
                Prefetch("transitions", queryset=TaskTransition.objects.select_related("actor").order_by("at", "id"))
            )
            .filter(pk=pk)
            .first()
        )
        if task is None:
            # The caller handed the task on (e.g. escalated it) and can no longer see it.
            task = Task.objects.select_related(*selectors.TASK_RELATED).get(pk=pk)
        return Response(self.get_serializer(task).data)


class MeView(APIView):
    """The caller's staff record, teams and roles."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        staff = request_staff(request)
        if staff is None:
            raise NotFound("No staff record.")
        return Response(s.MeSerializer(staff).data)
