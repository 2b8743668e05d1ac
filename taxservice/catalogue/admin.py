from django.contrib import admin

from taxservice.catalogue.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "handling_list",
        "tier",
        "team_kind",
        "time_limit_days",
        "moved_forward",
        "high_frequency",
        "needs_approval",
        "active",
    ]
    list_filter = ["handling_list", "tier", "team_kind", "moved_forward", "high_frequency", "needs_approval", "active"]
    search_fields = ["code", "name"]
