"""Service points (就近办) in the admin, with the grids each serves. Grids and areas are
edited here too, plainly; a taxpayer's grid changes only through its service (history)."""

from __future__ import annotations

from django.contrib import admin

from taxservice.grids.models import Area, Grid, GridRule, ServicePoint


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "partner", "branch", "opening_hours", "contact", "active"]
    list_filter = ["partner", "active", "branch"]
    search_fields = ["code", "name", "address"]
    filter_horizontal = ["grids"]
    list_select_related = ["branch"]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "area", "branch", "team", "leader", "active"]
    list_filter = ["active", "branch"]
    search_fields = ["code", "name"]
    list_select_related = ["area", "branch", "team", "leader"]


@admin.register(GridRule)
class GridRuleAdmin(admin.ModelAdmin):
    """The grid rules (which address goes to which grid); applied from the grids page."""

    list_display = ("priority", "area", "address_contains", "competent_branch", "grid", "active")
    list_filter = ("active", "grid__branch")
    ordering = ("priority", "id")
