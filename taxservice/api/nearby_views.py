"""API v1 for 就近办: service points (read-only), door-to-door visits and collected
materials. Views parse, call `taxservice.workflow.nearby` and render; refusals are JSON
with a `code` (taxservice/api/errors.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from taxservice.api.permissions import request_staff
from taxservice.api.serializers import MAX_ID
from taxservice.grids.models import ServicePoint
from taxservice.workflow.nearby import selectors, services
from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent


class ServicePointSerializer(serializers.ModelSerializer):
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grids = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ServicePoint
        fields = ["code", "name", "address", "partner", "branch", "grids", "opening_hours", "contact", "active"]


class VisitEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitEvent
        fields = ["action", "from_state", "to_state", "actor", "at", "note"]


class VisitSerializer(serializers.ModelSerializer):
    taxpayer = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    events = VisitEventSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "taxpayer",
            "grid",
            "scheduled_for",
            "staff",
            "address",
            "purpose",
            "state",
            "outcome",
            "recorded_by",
            "closed_at",
            "created_by",
            "created_at",
            "events",
        ]


class VisitCreateSerializer(serializers.Serializer):
    taxpayer = serializers.CharField(max_length=64, help_text="The taxpayer's credit code.")
    scheduled_for = serializers.DateField(help_text="The day of the visit; not in the past.")
    staff = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Who goes (a staff id); the caller by default."
    )
    address = serializers.CharField(max_length=200)
    purpose = serializers.CharField(max_length=200)


class VisitRecordSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        help_text="What came of the visit (required: `outcome_required`).", allow_blank=True, max_length=4000
    )


class VisitCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="Why the visit is cancelled (`reason_required`).", allow_blank=True, max_length=500
    )


class CollectionStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionStep
        fields = ["step", "from_state", "to_state", "actor", "at", "note"]


class CollectionSerializer(serializers.ModelSerializer):
    service_point = serializers.SlugRelatedField(slug_field="code", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    steps = CollectionStepSerializer(many=True, read_only=True)

    class Meta:
        model = Collection
        fields = [
            "id",
            "service_point",
            "case",
            "task",
            "team",
            "materials",
            "state",
            "created_by",
            "created_at",
            "updated_at",
            "steps",
        ]


class CollectionCreateSerializer(serializers.Serializer):
    service_point = serializers.CharField(max_length=32, help_text="An active service point's code.")
    case = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The case the materials are for (one the caller sees)."
    )
    task = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="A task of the case (optional)."
    )
    team = serializers.CharField(
        max_length=48,
        required=False,
        allow_blank=True,
        default="",
        help_text="The handling team's code; the task's team when left out (`team_required` when neither).",
    )
    materials = serializers.CharField(max_length=2000)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CollectionStepRequestSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=sorted(services.STEPS), help_text="hand_over, receive, then return.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


STATE_PARAMETER = OpenApiParameter("state", str, description="only those in this state")


class ServicePointViewSet(viewsets.ReadOnlyModelViewSet):
    """就近办 service points: partner, grids served, hours, contact, active or not."""

    serializer_class = ServicePointSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.service_point_list()


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Door-to-door visits (上门办) the caller may see: scheduled, then recorded or cancelled."""

    serializer_class = VisitSerializer
    queryset = Visit.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Visit.objects.none()
        staff = request_staff(self.request)
        state = self.request.query_params.get("state", "")
        return selectors.visit_list_for_staff(staff=staff, state=state).prefetch_related("events")

    @extend_schema(parameters=[STATE_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=VisitCreateSerializer, responses={201: VisitSerializer})
    def create(self, request):
        data = VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.visit_schedule(
            actor=request_staff(request),
            taxpayer=data.validated_data["taxpayer"],
            scheduled_for=data.validated_data["scheduled_for"],
            address=data.validated_data["address"],
            purpose=data.validated_data["purpose"],
            staff_id=data.validated_data.get("staff"),
        )
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VisitRecordSerializer, responses={200: VisitSerializer})
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Record the visit's outcome: it is done."""
        data = VisitRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.visit_record(
            actor=request_staff(request), visit_id=_id(pk), outcome=data.validated_data["outcome"]
        )
        return Response(VisitSerializer(visit).data)

    @extend_schema(request=VisitCancelSerializer, responses={200: VisitSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a scheduled visit, with the reason."""
        data = VisitCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.visit_cancel(
            actor=request_staff(request), visit_id=_id(pk), reason=data.validated_data["reason"]
        )
        return Response(VisitSerializer(visit).data)


class CollectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Materials collected at service points (代收办) and their way to the handling team."""

    serializer_class = CollectionSerializer
    queryset = Collection.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collection.objects.none()
        staff = request_staff(self.request)
        state = self.request.query_params.get("state", "")
        return selectors.collection_list_for_staff(staff=staff, state=state).prefetch_related("steps")

    @extend_schema(parameters=[STATE_PARAMETER])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CollectionCreateSerializer, responses={201: CollectionSerializer})
    def create(self, request):
        data = CollectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.collection_open(
            actor=request_staff(request),
            service_point=data.validated_data["service_point"],
            case_id=data.validated_data["case"],
            task_id=data.validated_data.get("task"),
            team=data.validated_data["team"],
            materials=data.validated_data["materials"],
            note=data.validated_data["note"],
        )
        return Response(CollectionSerializer(collection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CollectionStepRequestSerializer, responses={200: CollectionSerializer})
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Move the materials one step on: hand_over, receive, return."""
        data = CollectionStepRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.collection_step(
            actor=request_staff(request),
            collection_id=_id(pk),
            step=data.validated_data["step"],
            note=data.validated_data["note"],
        )
        return Response(CollectionSerializer(collection).data)


def _id(pk) -> int:
    if not str(pk).isdigit():
        raise NotFound("No such record.")
    return int(pk)
