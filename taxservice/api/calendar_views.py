"""API v1 for the working-day calendar: the days of a range for every caller; the override
rows, setting and removing them, and following the recomputation they start, for
administrators. Writes go through `taxservice.workdays.services`, as the page's do."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice import access
from taxservice.api.permissions import request_staff
from taxservice.errors import InvalidInput, NotFound
from taxservice.pagination import IdFirstPageNumberPagination
from taxservice.workdays import selectors
from taxservice.workdays.models import CalendarChange, CalendarOverride, ClockRecompute, DayKind
from taxservice.workdays.services import FIRST_DATE, LAST_DATE, calendar_override_remove, calendar_override_set

MAX_ID = 2**63 - 1  # a bigint: a larger id is no row, not an error


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `required`, `invalid_date`, `date_out_of_range`, `range_reversed`, "
        "`range_too_long`, `invalid_kind`, `name_too_long`, `name_not_allowed`, `reason_required`, "
        "`reason_too_long`, `nothing_to_change`, `no_override`, `invalid_year`, `permission_denied`, `not_found`."
    )
    detail = serializers.CharField(help_text="A sentence for people, in the caller's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False, help_text="Messages by field."
    )


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=DayKind.choices)
    kind_display = serializers.SerializerMethodField(help_text="The kind in the caller's language.")
    name = serializers.CharField(
        help_text="The holiday's name as stored: the package's English name (`Spring Festival`, `National Day`, …; "
        "an adjusted working day carries the name of the holiday it makes up for), or an override's name as the "
        "administrator typed it; empty for an ordinary day. Stable: compare against this one."
    )
    name_display = serializers.SerializerMethodField(
        help_text="The name in the caller's language (Simplified Chinese unless the language cookie chose "
        "English): the package's names are translated, an override's name is shown as typed."
    )
    source = serializers.ChoiceField(
        choices=selectors.DAY_SOURCES,
        help_text="Where the kind comes from: an administrator's `override`, the chinese-calendar `package` "
        "(its years), or the `weekday` (years the package does not cover yet).",
    )
    is_working = serializers.BooleanField(help_text="Whether due times count this day (workday or adjusted_workday).")

    def get_kind_display(self, day) -> str:
        return str(DayKind(day.kind).label)

    def get_name_display(self, day) -> str:
        return selectors.day_name_display(day.name)


class CalendarRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = DaySerializer(many=True)


class OverrideSerializer(serializers.ModelSerializer):
    changed_by = serializers.IntegerField(source="changed_by_id", read_only=True, help_text="A staff id.")

    class Meta:
        model = CalendarOverride
        fields = ["date", "kind", "name", "reason", "changed_by", "changed_at"]
        read_only_fields = fields


class OverrideWriteSerializer(serializers.Serializer):
    """The request body of POST /calendar/overrides/ (documentation: the service validates it)."""

    date = serializers.DateField(help_text="YYYY-MM-DD, from 2000-01-01 to 2100-12-31.")
    kind = serializers.ChoiceField(choices=DayKind.choices)
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="Only a holiday or an adjusted working day."
    )
    reason = serializers.CharField(max_length=500, help_text="Required; kept in the change log.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Required (here or as the `reason` query parameter).")


class ChangeSerializer(serializers.ModelSerializer):
    """One change of the calendar: the day before and after, and the recomputation it started."""

    kind = serializers.CharField(source="after_kind", help_text="The day's kind now.")
    name = serializers.CharField(help_text="The day's name now.")
    by = serializers.IntegerField(source="actor_id", help_text="A staff id.")
    recompute = serializers.IntegerField(
        source="recompute_id",
        allow_null=True,
        help_text="The recomputation of the open due times it started (/api/v1/calendar/recomputes/{id}/); null "
        "when the day stays as worked, or as idle, as it was, which moves no due time.",
    )

    class Meta:
        model = CalendarChange
        fields = [
            "date",
            "before_kind",
            "before_name",
            "kind",
            "name",
            "override_removed",
            "reason",
            "by",
            "at",
            "recompute",
        ]
        read_only_fields = fields


class RecomputeSerializer(serializers.ModelSerializer):
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True)
    percent = serializers.IntegerField()

    class Meta:
        model = ClockRecompute
        fields = [
            "id",
            "cause",
            "item_code",
            "state",
            "total",
            "done",
            "moved",
            "percent",
            "error",
            "requested_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


def _body(request: Request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class CalendarView(APIView):
    """The working-day calendar, day by day."""

    @extend_schema(
        operation_id="calendar_days",
        parameters=[
            OpenApiParameter("start", str, required=True, description="The first day, YYYY-MM-DD."),
            OpenApiParameter("end", str, required=True, description="The last day, YYYY-MM-DD; at most 366 days."),
        ],
        responses={200: CalendarRangeSerializer, 400: ErrorSerializer},
        description="Each day's kind (`workday`, `weekend`, `holiday`, `adjusted_workday`), name and source, "
        "from `start` to `end` inclusive (both required, `end` ≥ `start`, at most 366 days). Every staff member "
        "may read it.",
    )
    def get(self, request: Request) -> Response:
        days = selectors.calendar_days(start=request.query_params.get("start"), end=request.query_params.get("end"))
        body = {"start": days[0].date, "end": days[-1].date, "days": days}
        return Response(CalendarRangeSerializer(body).data)


class OverrideListView(APIView):
    """Administrators' overrides of the calendar."""

    pagination_class = IdFirstPageNumberPagination

    @extend_schema(
        operation_id="calendar_overrides_list",
        parameters=[OpenApiParameter("year", int, description="Only this year's overrides.")],
        responses={200: OverrideSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
        description="The override rows, by date (paginated). Administrators only.",
    )
    def get(self, request: Request) -> Response:
        access.require(access.can_edit_calendar, request_staff(request))
        overrides = selectors.calendar_override_list()
        year = request.query_params.get("year")
        if year:
            if not year.isdigit() or not FIRST_DATE.year <= int(year) <= LAST_DATE.year:
                message = _("Enter a year from %(first)d to %(last)d.") % {
                    "first": FIRST_DATE.year,
                    "last": LAST_DATE.year,
                }
                raise InvalidInput(message, code="invalid_year", fields={"year": [message]})
            overrides = overrides.filter(date__year=int(year))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(overrides, request, view=self)
        return paginator.get_paginated_response(OverrideSerializer(page, many=True).data)

    @extend_schema(
        operation_id="calendar_overrides_set",
        request=OverrideWriteSerializer,
        responses={
            201: ChangeSerializer,
            400: ErrorSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not an administrator (`permission_denied`)."),
            409: ErrorSerializer,
        },
        description="Set a date's override (replacing an earlier one). Audited; when the day becomes worked or "
        "not worked, the open tasks' due times are recomputed after the answer (follow `recompute`). Setting "
        "what the day already is answers 400 `nothing_to_change`.",
    )
    def post(self, request: Request) -> Response:
        data = _body(request)
        change = calendar_override_set(
            actor=request_staff(request),
            date=data.get("date"),
            kind=data.get("kind"),
            name=data.get("name", ""),
            reason=data.get("reason"),
        )
        return Response(ChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class OverrideDetailView(APIView):
    @extend_schema(
        operation_id="calendar_overrides_remove",
        request=ReasonSerializer,
        parameters=[
            OpenApiParameter("date", str, OpenApiParameter.PATH, description="YYYY-MM-DD"),
            OpenApiParameter("reason", str, description="Why, when the body has no `reason`."),
        ],
        responses={200: ChangeSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="Remove a date's override: the day is again what the package or the weekday says. "
        "Answers the change-log row (200, not 204, so the caller can follow `recompute`); 404 `no_override` "
        "when the date has none. Administrators only.",
    )
    def delete(self, request: Request, date: str) -> Response:
        reason = _body(request).get("reason") or request.query_params.get("reason")
        change = calendar_override_remove(actor=request_staff(request), date=date, reason=reason)
        return Response(ChangeSerializer(change).data)


class RecomputeDetailView(APIView):
    @extend_schema(
        operation_id="calendar_recomputes_retrieve",
        responses={200: RecomputeSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="One recomputation of the open due times: its state and progress (`done` of `total`, "
        "`moved`). Administrators only.",
    )
    def get(self, request: Request, run_id: int) -> Response:
        access.require(access.can_edit_calendar, request_staff(request))
        run = selectors.clock_recompute_get(run_id=run_id) if run_id <= MAX_ID else None
        if run is None:
            raise NotFound(_("No such recomputation."))
        return Response(RecomputeSerializer(run).data)
