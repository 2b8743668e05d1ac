"""The change log in the Django admin: edits made there are recorded, and the log is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from taxservice.changes.models import ChangeLog
from taxservice.changes.services import Action, record_change, snapshot
from taxservice.org.selectors import staff_for_user


class ChangeLoggedAdmin(admin.ModelAdmin):
    """Mix in before `admin.ModelAdmin`: every add, change and delete made in the admin
    writes one change-log row (in the admin's transaction), with the fields that changed.
    Many-to-many fields count: the row is written after `save_related`."""

    def _actor(self, request):
        return staff_for_user(request.user), request.user.get_username()

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = snapshot(stored) if stored is not None else {}
        form._change_log_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        actor, name = self._actor(request)
        record_change(
            actor=actor,
            actor_name=name,
            obj=form.instance,
            action=Action.CHANGED if change else Action.CREATED,
            before=getattr(form, "_change_log_before", {}),
            after=snapshot(form.instance),
        )

    def delete_model(self, request, obj):
        actor, name = self._actor(request)
        with transaction.atomic():
            record_change(actor=actor, actor_name=name, obj=obj, action=Action.DELETED, before=snapshot(obj), after={})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        actor, name = self._actor(request)
        with transaction.atomic():
            for obj in queryset:
                record_change(
                    actor=actor, actor_name=name, obj=obj, action=Action.DELETED, before=snapshot(obj), after={}
                )
            super().delete_queryset(request, queryset)


@admin.register(ChangeLog)
class ChangeLogAdmin(admin.ModelAdmin):
    """The change log, read-only."""

    list_display = ["at", "content_type", "object_label", "action", "actor_name", "reason"]
    list_filter = ["action", "content_type"]
    list_select_related = ["content_type"]
    search_fields = ["object_label", "actor_name", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
