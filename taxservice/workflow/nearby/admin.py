"""Visits and collected materials in the admin: read-only (they change through the services,
each change logged)."""

from __future__ import annotations

from django.contrib import admin

from taxservice.workflow.nearby.models import Collection, CollectionStep, Visit, VisitEvent


class _ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class VisitEventInline(_ReadOnly, admin.TabularInline):
    model = VisitEvent
    fields = ["at", "action", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields
    extra = 0


class CollectionStepInline(_ReadOnly, admin.TabularInline):
    model = CollectionStep
    fields = ["at", "step", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields
    extra = 0


@admin.register(Visit)
class VisitAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["id", "taxpayer", "grid", "scheduled_for", "staff", "state"]
    list_filter = ["state"]
    search_fields = ["taxpayer__name", "taxpayer__credit_code", "address"]
    list_select_related = ["taxpayer", "grid", "staff"]
    inlines = [VisitEventInline]


@admin.register(Collection)
class CollectionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["id", "service_point", "case", "team", "state", "updated_at"]
    list_filter = ["state"]
    list_select_related = ["service_point", "case", "team"]
    inlines = [CollectionStepInline]
