"""The ladder in the admin: steps edited with every edit audited; what was sent, read-only."""

from __future__ import annotations

from django.contrib import admin

from taxservice.org.selectors import staff_for_user
from taxservice.workflow.ladder.models import Escalation, EscalationStep, EscalationStepChange
from taxservice.workflow.ladder.services import escalation_step_save


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StepChangeInline(admin.TabularInline):
    model = EscalationStepChange
    fields = ["changed_at", "changed_by", "before", "after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "name", "action", "watch", "offset_days", "to_assignee", "to_chiefs", "active"]
    list_display_links = ["code", "name"]
    list_filter = ["active", "action", "watch"]
    inlines = [StepChangeInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        # What was sent points at its step: a step is switched off (active), never deleted.
        return False

    def save_model(self, request, obj, form, change) -> None:
        escalation_step_save(actor=staff_for_user(request.user), step=obj)


@admin.register(Escalation)
class EscalationAdmin(_ReadOnly):
    list_display = ["task", "step", "due_at", "sent_at", "transition"]
    list_filter = ["step"]
    list_select_related = ["step"]
    raw_id_fields = ["task", "transition"]
    date_hierarchy = "sent_at"
