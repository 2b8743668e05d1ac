"""API v1 for classification and grading (分类分级): the rules in force for every caller;
starting a recomputation of every taxpayer and following it, for administrators. Writes go
through `taxservice.taxpayers.classification_services`, as the page's do."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taxservice import access
from taxservice.api.permissions import request_staff
from taxservice.errors import NotFound
from taxservice.taxpayers import classification_selectors as selectors
from taxservice.taxpayers.classification_services import classification_run_start
from taxservice.taxpayers.models import ClassificationRuleSet, ClassificationRun


class ClassificationErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: `invalid`, `no_rules`, `permission_denied`, `not_found`.")
    detail = serializers.CharField(help_text="A sentence for people, in the caller's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False, help_text="Messages by field."
    )


class RuleSetSerializer(serializers.ModelSerializer):
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, help_text="A staff id.")
    category_rules = serializers.JSONField(
        help_text='Ordered rows, first match wins: `{"when": {"kind": [...], "industry": [...], "scale": [...], '
        '"risk": [...], "credit": [...]}, "then": "<category>"}`; an absent condition matches anything.'
    )
    grade_rules = serializers.JSONField(help_text="Ordered rows as `category_rules`, giving a service grade A–D.")

    class Meta:
        model = ClassificationRuleSet
        fields = [
            "version",
            "category_rules",
            "default_category",
            "grade_rules",
            "default_grade",
            "reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="rule_set.version", help_text="The rule set version it applies.")
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True)
    percent = serializers.IntegerField()

    class Meta:
        model = ClassificationRun
        fields = [
            "id",
            "cause",
            "version",
            "state",
            "total",
            "done",
            "changed",
            "percent",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer):
    cause = serializers.CharField(max_length=500, help_text="Required: why every taxpayer is recomputed.")


class RulesView(APIView):
    @extend_schema(
        operation_id="classification_rules",
        responses={200: RuleSetSerializer, 404: ClassificationErrorSerializer},
        description="The classification rules in force (the newest version). Every staff member may read them; "
        "404 `not_found` when there are none.",
    )
    def get(self, request: Request) -> Response:
        active = selectors.rule_set_active()
        if active is None:
            raise NotFound(_("There are no classification rules yet."))
        return Response(RuleSetSerializer(active).data)


class RunListView(APIView):
    @extend_schema(
        operation_id="classification_runs_start",
        request=RunStartSerializer,
        responses={
            202: RunSerializer,
            400: ClassificationErrorSerializer,
            403: OpenApiResponse(
                ClassificationErrorSerializer, description="Not an administrator (`permission_denied`)."
            ),
        },
        description="Start recomputing every taxpayer's category and service grade with the rules in force. "
        "Answers at once (202) with the run; follow it at /api/v1/classification/runs/{id}/. Administrators only.",
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        run = classification_run_start(actor=request_staff(request), cause=str(data.get("cause") or ""))
        run = selectors.classification_run_get(run_id=run.pk)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(APIView):
    @extend_schema(
        operation_id="classification_runs_retrieve",
        responses={200: RunSerializer, 403: ClassificationErrorSerializer, 404: ClassificationErrorSerializer},
        description="One recomputation: its state and progress (`done` of `total`, `changed`). Administrators only.",
    )
    def get(self, request: Request, run_id: int) -> Response:
        access.require(access.is_admin, request_staff(request))
        run = selectors.classification_run_get(run_id=run_id)
        if run is None:
            raise NotFound(_("No such recomputation."))
        return Response(RunSerializer(run).data)
