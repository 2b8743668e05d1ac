"""API v1 for grids (网格): the grids one sees, a taxpayer's grid (PATCH with a reason), bulk
grid tasks for a selection, and imports of grid assignments. Parse, call a service or a
selector, render; the services decide and refuse."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from taxservice.api import serializers as s
from taxservice.api.permissions import request_staff
from taxservice.api.views import TaxpayerViewSet
from taxservice.grids import selectors as grid_selectors
from taxservice.grids.models import Grid, GridImport
from taxservice.taxpayers import grid_selectors as taxpayer_selectors
from taxservice.taxpayers.grid_services import (
    MAX_BYTES,
    grid_import_progress,
    grid_import_refuse_large,
    grid_import_start,
    taxpayer_grid_set,
)
from taxservice.workflow.routing.grid_tasks import grid_tasks_create


class _Named(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _Person(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GridSerializer(serializers.ModelSerializer):
    street = _Named(source="area", read_only=True)
    district = serializers.SerializerMethodField()
    branch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    group = _Named(source="team", read_only=True, help_text="The grid's service group (a team of the grid kind).")
    leader = _Person(read_only=True, allow_null=True)
    taxpayer_count = serializers.IntegerField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "street", "district", "branch", "group", "leader", "active"]
        fields += ["taxpayer_count", "member_count"]

    def get_district(self, grid: Grid) -> str | None:
        parent = grid.area.parent
        return parent.name if parent is not None else None


class GridTasksRequestSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=32, help_text="A grid item's code (tier or team kind `grid`).")
    grades = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list, help_text="Empty: every grade."
    )
    classifications = serializers.ListField(
        child=serializers.CharField(max_length=24), required=False, default=list, help_text="Empty: every one."
    )
    credit_codes = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=taxpayer_selectors.MAX_SELECTION,
        help_text="Only these taxpayers of the grid (optional).",
    )
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GridTasksResultSerializer(serializers.Serializer):
    grid = serializers.CharField(source="grid.code")
    item = serializers.CharField(source="item.code")
    selected = serializers.IntegerField(help_text="Taxpayers in the selection.")
    created = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the new tasks.")
    merged = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of open tasks the intakes were merged into."
    )
    rerouted = serializers.IntegerField(help_text="Tasks screening sent elsewhere, rerouted to the grid's group.")
    dispatched_now = serializers.IntegerField(help_text="Dispatched by the pipeline in this request.")
    left_to_robot = serializers.IntegerField(help_text="Marked for the auto-dispatch robot (after the commit).")
    batch = serializers.CharField(help_text="The intakes' batch.")


class GridViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The grids the caller sees (grid staff their own, branch chiefs their branch's,
    coordinators and administrators all), with group, leader and taxpayer count."""

    serializer_class = GridSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grid.objects.none()
        return grid_selectors.grids_for_staff(staff=request_staff(self.request))

    @extend_schema(
        request=GridTasksRequestSerializer,
        responses={201: GridTasksResultSerializer},
        description=(
            "One grid task per selected taxpayer of the grid (filters: grades, classifications, credit codes), "
            "through intake and screening, dispatched to the grid's service group. At most "
            f"{taxpayer_selectors.MAX_SELECTION} taxpayers, checked first. All or nothing. 400 with `code` "
            "(`item_not_eligible`, `not_in_grid`, `empty_selection`, `selection_too_large`), 403, 404."
        ),
    )
    @action(detail=True, methods=["post"])
    def tasks(self, request, pk=None):
        grid = self.get_object()
        data = GridTasksRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = grid_tasks_create(actor=request_staff(request), grid_id=grid.pk, **data.validated_data)
        return Response(GridTasksResultSerializer(result).data, status=status.HTTP_201_CREATED)


class TaxpayerGridPatchSerializer(serializers.Serializer):
    grid = serializers.CharField(
        max_length=32, allow_blank=True, allow_null=True, help_text="A grid code; empty or null: no grid."
    )
    reason = serializers.CharField(max_length=500, allow_blank=True, help_text="Why (required: `reason_required`).")


class TaxpayerWithGridViewSet(mixins.UpdateModelMixin, TaxpayerViewSet):
    """Taxpayers, found by credit code or name (`?q=`), registered with a validated code; each
    with its grid, and `PATCH` to move it to another grid, with a reason."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().select_related("grid")

    @extend_schema(
        request=TaxpayerGridPatchSerializer,
        responses={200: s.TaxpayerSerializer},
        description="Move the taxpayer to another grid (coordinators, administrators; branch chiefs within "
        "their branch). One history row per change; the same grid changes nothing.",
    )
    def partial_update(self, request, *args, **kwargs):
        data = TaxpayerGridPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        taxpayer = taxpayer_grid_set(
            actor=request_staff(request),
            credit_code=kwargs[self.lookup_field],
            grid_code=data.validated_data["grid"] or "",
            reason=data.validated_data["reason"],
        )
        return Response(s.TaxpayerSerializer(taxpayer).data)


class GridImportSerializer(serializers.ModelSerializer):
    uploaded_by = _Person(read_only=True)
    percent = serializers.SerializerMethodField()

    class Meta:
        model = GridImport
        fields = ["id", "filename", "reason", "state", "total_rows", "processed_rows", "percent"]
        fields += ["changed_count", "unchanged_count", "errors", "uploaded_by", "created_at", "finished_at"]

    def get_percent(self, batch: GridImport) -> int:
        if batch.state in (GridImport.State.DONE, GridImport.State.FAILED):
            return 100
        return min(100, batch.processed_rows * 100 // batch.total_rows) if batch.total_rows else 0


class GridImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX with columns credit_code, grid")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GridImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of grid assignments: POST a file (202), then GET it for progress and the per-row report."""

    serializer_class = GridImportSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GridImport.objects.none()
        return grid_selectors.grid_imports_for_staff(staff=request_staff(self.request))

    def initial(self, request, *args, **kwargs):
        # Before authentication, which may parse the body: a body that says it is too large is refused unread.
        if request.method == "POST":
            grid_import_refuse_large(content_length=request.META.get("CONTENT_LENGTH"))
        return super().initial(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        batch = self.get_object()
        batch.processed_rows, _total = grid_import_progress(batch)
        return Response(GridImportSerializer(batch).data)

    @extend_schema(
        request={"multipart/form-data": GridImportRequestSerializer},
        responses={202: GridImportSerializer},
        description="A CSV or XLSX file of at most 5 MB and 20,000 rows (413 `file_too_large`, 400 "
        "`too_many_rows`); checked row by row, then written all or nothing.",
    )
    def create(self, request):
        data = GridImportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        grid_import_refuse_large(file_size=upload.size)
        batch = grid_import_start(
            actor=request_staff(request),
            filename=upload.name,
            content=upload.read(MAX_BYTES + 1),
            reason=data.validated_data["reason"],
        )
        found = self.get_queryset().filter(pk=batch.pk).first()
        if found is None:
            raise NotFound()
        return Response(GridImportSerializer(found).data, status=status.HTTP_202_ACCEPTED)
