from django.contrib import admin

from taxservice.changes.admin import ChangeLoggedAdmin
from taxservice.org.models import Branch, Staff, StaffRole, Team


@admin.register(Branch)
class BranchAdmin(ChangeLoggedAdmin):
    list_display = ["code", "name", "kind", "parent", "home_hall"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(ChangeLoggedAdmin):
    list_display = ["code", "name", "kind", "tier", "branch", "home_branch"]
    list_filter = ["tier", "kind"]
    search_fields = ["code", "name"]


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 1


@admin.register(Staff)
class StaffAdmin(ChangeLoggedAdmin):
    list_display = ["name", "user", "home_branch", "on_duty", "capacity"]
    list_filter = ["on_duty", "home_branch", "role_rows__role"]
    search_fields = ["name", "user__username"]
    filter_horizontal = ["teams"]
    inlines = [StaffRoleInline]
