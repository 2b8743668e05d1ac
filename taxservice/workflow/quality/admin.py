"""The closing loop in the admin: read-only, since every row is written by a service."""

from __future__ import annotations

from django.contrib import admin

from taxservice.workflow.quality.models import (
    CaseRating,
    Inspection,
    InspectionResult,
    QualityLog,
    Rectification,
    ReturnVisit,
    SampledTask,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CaseRating)
class CaseRatingAdmin(ReadOnlyAdmin):
    list_display = ("case", "score", "channel", "recorded_by", "at")
    list_filter = ("score", "channel")
    raw_id_fields = ("case",)


@admin.register(ReturnVisit)
class ReturnVisitAdmin(ReadOnlyAdmin):
    list_display = ("case", "visited_at", "visited_by", "channel", "satisfied")
    list_filter = ("channel", "satisfied")
    raw_id_fields = ("case",)


class SampledTaskInline(admin.TabularInline):
    model = SampledTask
    fields = ("position", "task")
    readonly_fields = fields
    raw_id_fields = ("task",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("week_start", "sample_size", "candidates", "seed", "drawn_by", "drawn_at", "state")
    inlines = [SampledTaskInline]


@admin.register(InspectionResult)
class InspectionResultAdmin(ReadOnlyAdmin):
    list_display = ("sampled", "passed", "inspector", "at")
    list_filter = ("passed",)


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "task", "responsible", "opened_at")
    raw_id_fields = ("task", "concerning", "rating", "inspection_result")


@admin.register(QualityLog)
class QualityLogAdmin(ReadOnlyAdmin):
    list_display = ("action", "actor", "at")
    list_filter = ("action",)
