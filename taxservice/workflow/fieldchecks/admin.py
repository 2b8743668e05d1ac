"""Field checks in the admin: read-only (recorded through the service, append-only)."""

from __future__ import annotations

from django.contrib import admin

from taxservice.workflow.fieldchecks.models import FieldCheck, FieldCheckAttachment


class _ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AttachmentInline(_ReadOnly, admin.TabularInline):
    model = FieldCheckAttachment
    # No link to the file itself: files are handed out only by the permission-checked views.
    fields = ["original_name", "content_type", "size", "sha256"]
    readonly_fields = fields
    extra = 0


@admin.register(FieldCheck)
class FieldCheckAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["id", "task", "place", "visited_on", "result", "recorded_by", "recorded_at"]
    list_filter = ["result"]
    search_fields = ["place", "findings", "task__id"]
    list_select_related = ["task__item", "recorded_by"]
    raw_id_fields = ["task"]
    inlines = [AttachmentInline]
