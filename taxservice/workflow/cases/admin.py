from django.contrib import admin

from taxservice.workflow.cases.models import Case, Task, TaskTransition


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases, tasks and the log change only through the services, never in the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "taxpayer", "channel", "hall", "cross_hall", "state", "created_at"]
    list_filter = ["state", "channel", "cross_hall"]
    list_select_related = ["taxpayer", "hall"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "item", "taxpayer", "state", "tier", "team", "assignee", "due_at"]
    list_filter = ["state", "tier"]
    list_select_related = ["item", "taxpayer", "team", "assignee"]


@admin.register(TaskTransition)
class TaskTransitionAdmin(ReadOnlyAdmin):
    list_display = ["task", "transition", "from_state", "to_state", "actor", "at"]
    list_filter = ["transition"]
    list_select_related = ["actor"]
