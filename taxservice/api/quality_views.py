"""API v1 for the closing loop: feedback on a case, the taxpayer's rating (好差评), return
visits (回访), the weekly quality-inspection sample and its results, and rectifications
(整改). Views parse, call `taxservice.workflow.quality` and render; refusals are JSON with
a `code` (taxservice/api/errors.py). Another branch's case answers 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice import access
from taxservice.api import serializers as s
from taxservice.api.permissions import request_staff
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.workflow.cases.models import Channel, Task
from taxservice.workflow.cases.selectors import TASK_RELATED
from taxservice.workflow.quality import selectors, services
from taxservice.workflow.quality.checklist import CHECK_CODES
from taxservice.workflow.quality.models import (
    COMMENT_MAX_CHARS,
    TEXT_MAX_CHARS,
    CaseRating,
    Inspection,
    InspectionResult,
    RatingChannel,
    Rectification,
    ReturnVisit,
    SampledTask,
    VisitChannel,
)


class QualityErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `invalid_rating`, `already_rated`, `not_ready_for_rating`, `already_drawn`, "
        "`already_scored`, `findings_required`, `not_in_sample`, `nothing_to_feed_back`, `permission_denied`, "
        "`not_found`, …"
    )
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


ERRORS = {400: QualityErrorSerializer, 403: QualityErrorSerializer, 404: QualityErrorSerializer}
ERRORS_409 = {**ERRORS, 409: QualityErrorSerializer}


def _case_id(case_id) -> int:
    if not str(case_id).isdigit():
        raise NotFound("No such case, or not one of yours.")
    return int(case_id)


# --- feedback ------------------------------------------------------------------------------------


class FeedbackRequestSerializer(serializers.Serializer):
    task = serializers.IntegerField(required=False, help_text="One done task of the case.")
    tasks = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=100, help_text="Several done tasks of the case."
    )
    result = serializers.CharField(max_length=TEXT_MAX_CHARS, help_text="The result returned to the taxpayer.")
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, default="", help_text="The case's channel by default."
    )


class CaseFeedbackView(APIView):
    """Give the taxpayer feedback on a case's finished (done) tasks: the one or ones named,
    or all of them. Each goes through the `give_feedback` transition; the back office's
    result is kept beside the feedback. All or nothing."""

    @extend_schema(request=FeedbackRequestSerializer, responses={200: s.TaskSerializer(many=True), **ERRORS_409})
    def post(self, request, case_id):
        staff = request_staff(request)
        data = FeedbackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ids = list(values.get("tasks") or [])
        if "task" in values:
            ids.append(values["task"])
        done = services.case_feedback_give(
            actor=staff, case_id=_case_id(case_id), result=values["result"], channel=values["channel"], task_ids=ids
        )
        tasks = Task.objects.select_related(*TASK_RELATED).filter(pk__in=[t.pk for t in done]).order_by("id")
        return Response(s.TaskSerializer(tasks, many=True, context={"staff": staff}).data)


# --- rating --------------------------------------------------------------------------------------


class RatingSerializer(serializers.ModelSerializer):
    grade = serializers.CharField(read_only=True, help_text="`good` (4–5), `neutral` (3) or `bad` (1–2).")
    recorded_by_name = serializers.CharField(source="recorded_by.name", read_only=True)
    rectification = serializers.SerializerMethodField(help_text="The rectification it opened (a bad rating).")

    class Meta:
        model = CaseRating
        fields = ["id", "case", "score", "grade", "comment", "channel", "recorded_by", "recorded_by_name", "at"]
        fields += ["rectification"]
        read_only_fields = fields

    def get_rectification(self, obj: CaseRating) -> int | None:
        found = Rectification.objects.filter(rating=obj).values_list("pk", flat=True).first()
        return found


class RatingRequestSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="1 to 5: 4–5 好评, 3 中评, 1–2 差评 (opens a rectification).")
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=COMMENT_MAX_CHARS)


class CaseRatingView(APIView):
    """The taxpayer's rating of a case (问效), once per case (a second answers 409
    `already_rated`); only once a task of the case was given feedback or closed."""

    @extend_schema(responses={200: RatingSerializer, **ERRORS})
    def get(self, request, case_id):
        staff = request_staff(request)
        case = selectors.case_for_staff(staff=staff, case_id=_case_id(case_id))
        rating = selectors.case_rating(case=case) if case is not None else None
        if rating is None:
            raise NotFound("No rating for this case, or not one of yours.")
        return Response(RatingSerializer(rating).data)

    @extend_schema(request=RatingRequestSerializer, responses={201: RatingSerializer, **ERRORS_409})
    def post(self, request, case_id):
        staff = request_staff(request)
        score = request.data.get("score") if hasattr(request.data, "get") else None
        comment = request.data.get("comment", "") if hasattr(request.data, "get") else ""
        rating = services.case_rate(
            actor=staff,
            case_id=_case_id(case_id),
            score=score,
            comment=comment if isinstance(comment, str) else "",
            channel=RatingChannel.API,
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


# --- return visits -------------------------------------------------------------------------------


class ReturnVisitSerializer(serializers.ModelSerializer):
    visited_by_name = serializers.CharField(source="visited_by.name", read_only=True)

    class Meta:
        model = ReturnVisit
        fields = ["id", "case", "visited_at", "visited_by", "visited_by_name", "channel", "said", "satisfied"]
        fields += ["recorded_at"]
        read_only_fields = fields


class ReturnVisitRequestSerializer(serializers.Serializer):
    visited_at = serializers.DateTimeField(required=False, help_text="Now by default.")
    channel = serializers.ChoiceField(choices=VisitChannel.choices)
    said = serializers.CharField(max_length=TEXT_MAX_CHARS, help_text="What the taxpayer said.")
    satisfied = serializers.BooleanField()


class CaseReturnVisitsView(generics.GenericAPIView):
    """Return visits (回访) of a case: list (newest first) and record."""

    serializer_class = ReturnVisitSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = ReturnVisit.objects.none()

    @extend_schema(responses={200: ReturnVisitSerializer(many=True), **ERRORS})
    def get(self, request, case_id):
        staff = request_staff(request)
        case = selectors.case_for_staff(staff=staff, case_id=_case_id(case_id))
        if case is None:
            raise NotFound("No such case, or not one of yours.")
        page = self.paginate_queryset(selectors.return_visits(case=case))
        return self.get_paginated_response(ReturnVisitSerializer(page, many=True).data)

    @extend_schema(request=ReturnVisitRequestSerializer, responses={201: ReturnVisitSerializer, **ERRORS})
    def post(self, request, case_id):
        staff = request_staff(request)
        data = ReturnVisitRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visit = services.return_visit_record(
            actor=staff,
            case_id=_case_id(case_id),
            visited_at=values.get("visited_at"),
            channel=values["channel"],
            said=values["said"],
            satisfied=values["satisfied"],
        )
        return Response(ReturnVisitSerializer(visit).data, status=status.HTTP_201_CREATED)


# --- inspections ---------------------------------------------------------------------------------


class InspectionResultSerializer(serializers.ModelSerializer):
    task = serializers.IntegerField(source="sampled.task_id", read_only=True)
    inspector_name = serializers.CharField(source="inspector.name", read_only=True)
    rectification = serializers.SerializerMethodField()

    class Meta:
        model = InspectionResult
        fields = ["id", "task", "checks", "passed", "findings", "inspector", "inspector_name", "at", "rectification"]
        read_only_fields = fields

    def get_rectification(self, obj: InspectionResult) -> int | None:
        return Rectification.objects.filter(inspection_result=obj).values_list("pk", flat=True).first()


class SampledTaskSerializer(serializers.ModelSerializer):
    task = serializers.IntegerField(source="task_id", read_only=True)
    item = serializers.CharField(source="task.item.code", read_only=True)
    item_name = serializers.CharField(source="task.item.name", read_only=True)
    team = serializers.CharField(source="task.team.code", read_only=True, allow_null=True, default=None)
    assignee_name = serializers.CharField(source="task.assignee.name", read_only=True, allow_null=True, default=None)
    task_result = serializers.CharField(source="task.result", read_only=True)
    feedback = serializers.CharField(source="task.feedback", read_only=True)
    result = serializers.SerializerMethodField()

    class Meta:
        model = SampledTask
        fields = ["position", "task", "item", "item_name", "team", "assignee_name", "task_result", "feedback"]
        fields += ["result"]
        read_only_fields = fields

    @extend_schema_field(InspectionResultSerializer(allow_null=True))
    def get_result(self, obj: SampledTask) -> dict | None:
        result = getattr(obj, "result", None)
        return InspectionResultSerializer(result).data if result is not None else None


class InspectionSerializer(serializers.ModelSerializer):
    sampled = serializers.IntegerField(read_only=True)
    scored = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    drawn_by_name = serializers.CharField(source="drawn_by.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Inspection
        fields = ["id", "week_start", "sample_size", "seed", "candidates", "drawn_by", "drawn_by_name", "drawn_at"]
        fields += ["state", "sampled", "scored", "failed"]
        read_only_fields = fields


class InspectionDetailSerializer(InspectionSerializer):
    sample = SampledTaskSerializer(many=True, read_only=True)

    class Meta(InspectionSerializer.Meta):
        fields = [*InspectionSerializer.Meta.fields, "sample"]
        read_only_fields = fields


class InspectionDrawSerializer(serializers.Serializer):
    week_start = serializers.DateField(
        required=False, help_text="A Monday of a week that is over; last week by default."
    )
    size = serializers.IntegerField(required=False, help_text=f"1 to {services.MAX_SAMPLE_SIZE}; 10 by default.")
    seed = serializers.IntegerField(
        required=False, min_value=0, help_text="Stored; the same seed on the same week draws the same sample."
    )


class InspectionResultRequestSerializer(serializers.Serializer):
    task = serializers.IntegerField(help_text="A task of the sample.")
    checks = serializers.DictField(
        child=serializers.BooleanField(), help_text=f"Every check, true (pass) or false: {', '.join(CHECK_CODES)}."
    )
    findings = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=TEXT_MAX_CHARS, help_text="Required when failing."
    )


def _require_inspector(request):
    staff = request_staff(request)
    access.require(access.can_inspect_quality, staff)
    return staff


class InspectionListView(generics.GenericAPIView):
    """The weekly quality-inspection samples (newest week first), and drawing one on demand.
    One per week: a second draw for a week answers 409 `already_drawn`. For quality
    inspectors and administrators."""

    serializer_class = InspectionSerializer
    pagination_class = IdFirstPageNumberPagination
    queryset = Inspection.objects.none()

    @extend_schema(responses={200: InspectionSerializer(many=True), 403: QualityErrorSerializer})
    def get(self, request):
        _require_inspector(request)
        page = self.paginate_queryset(selectors.inspection_list())
        return self.get_paginated_response(InspectionSerializer(page, many=True).data)

    @extend_schema(request=InspectionDrawSerializer, responses={201: InspectionDetailSerializer, **ERRORS_409})
    def post(self, request):
        staff = _require_inspector(request)
        data = InspectionDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        inspection = services.inspection_draw(
            actor=staff, week_start=values.get("week_start"), size=values.get("size"), seed=values.get("seed")
        )
        found = selectors.inspection_get(inspection_id=inspection.pk)
        return Response(InspectionDetailSerializer(found).data, status=status.HTTP_201_CREATED)


class InspectionDetailView(APIView):
    """One week's inspection with its sample and each task's result."""

    @extend_schema(
        responses={200: InspectionDetailSerializer, 403: QualityErrorSerializer, 404: QualityErrorSerializer}
    )
    def get(self, request, inspection_id):
        _require_inspector(request)
        found = selectors.inspection_get(inspection_id=inspection_id)
        if found is None:
            raise NotFound("No such inspection.")
        return Response(InspectionDetailSerializer(found).data)


class InspectionResultsView(APIView):
    """Score one sampled task against the checklist. A failure needs findings and opens one
    rectification for the task's last handler. Once per task (409 `already_scored`)."""

    @extend_schema(request=InspectionResultRequestSerializer, responses={201: InspectionResultSerializer, **ERRORS_409})
    def post(self, request, inspection_id):
        staff = _require_inspector(request)
        data = InspectionResultRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.inspection_result_record(
            actor=staff,
            inspection_id=inspection_id,
            task_id=values["task"],
            checks=values["checks"],
            findings=values["findings"],
        )
        return Response(InspectionResultSerializer(result).data, status=status.HTTP_201_CREATED)


# --- rectifications ------------------------------------------------------------------------------


class RectificationSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="source_kind", read_only=True, help_text="`rating` or `inspection`.")
    state = serializers.CharField(source="task.state", read_only=True, help_text="The rectification task's state.")
    case = serializers.IntegerField(source="rating.case_id", read_only=True, allow_null=True, default=None)
    inspection = serializers.IntegerField(
        source="inspection_result.sampled.inspection_id", read_only=True, allow_null=True, default=None
    )
    responsible_name = serializers.CharField(source="responsible.name", read_only=True)
    assignee = serializers.IntegerField(source="task.assignee_id", read_only=True, allow_null=True)
    team = serializers.CharField(source="task.team.code", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Rectification
        fields = ["id", "source", "rating", "case", "inspection_result", "inspection", "concerning", "task", "state"]
        fields += ["team", "assignee", "responsible", "responsible_name", "cause", "opened_at"]
        read_only_fields = fields


class RectificationListView(generics.ListAPIView):
    """Rectifications (整改) whose task the caller may see, the newest first, each with its
    task's state. For quality inspectors, branch chiefs, coordinators and administrators."""

    serializer_class = RectificationSerializer
    queryset = Rectification.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Rectification.objects.none()
        staff = request_staff(self.request)
        access.require(access.can_see_rectifications, staff)
        return selectors.rectification_list_for_staff(staff=staff, state=self.request.query_params.get("state", ""))

    @extend_schema(
        parameters=[OpenApiParameter("state", str, description="A task state, or `open` for every open state.")],
        responses={200: RectificationSerializer(many=True), 403: QualityErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
