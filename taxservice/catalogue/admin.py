from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from taxservice import access
from taxservice.catalogue.models import LIMIT_FIELDS, Item, ItemLimitChange
from taxservice.catalogue.services import item_limits_change
from taxservice.changes.admin import ChangeLoggedAdmin
from taxservice.org.selectors import staff_for_user


class ItemAdminForm(forms.ModelForm):
    """The item, plus why its time limits change (kept in the audit row). The admin builds
    the form's model and fields (`ItemAdmin.fieldsets`)."""

    limit_change_reason = forms.CharField(
        label=_("Why the time limits change"),
        max_length=500,
        required=False,
        help_text=_("Changing a time limit recomputes the due times of the item's open tasks."),
    )

    def limits_changed(self) -> list[str]:
        return [name for name in LIMIT_FIELDS if name in self.changed_data] if self.instance.pk else []

    def clean(self):
        cleaned = super().clean()
        request = getattr(self, "request", None)
        if self.limits_changed() and request is not None:
            staff = staff_for_user(request.user)
            # A superuser without a staff record is the system; anyone else needs the rule.
            allowed = request.user.is_superuser if staff is None else access.can_edit_calendar(staff)
            if not allowed:
                raise forms.ValidationError(access.can_edit_calendar.refusal)
        return cleaned


@admin.register(Item)
class ItemAdmin(ChangeLoggedAdmin):
    form = ItemAdminForm
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
    fieldsets = [
        (None, {"fields": ["code", "name", "handling_list", "tier", "team_kind", "steps"]}),
        (_("Time limits"), {"fields": [*LIMIT_FIELDS, "limit_change_reason"]}),
        (_("Flags"), {"fields": ["moved_forward", "high_frequency", "needs_approval", "active"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        """The other fields as Django saves them; the time limits through the service, which
        audits them and recomputes the open tasks (in the admin's transaction)."""
        changed = form.limits_changed() if change else []
        wanted = {name: getattr(obj, name) for name in changed}
        for name in changed:
            setattr(obj, name, form.initial.get(name))
        super().save_model(request, obj, form, change)
        if wanted:
            item_limits_change(
                actor=staff_for_user(request.user),
                item_id=obj.pk,
                changes=wanted,
                reason=form.cleaned_data.get("limit_change_reason", ""),
            )
            obj.refresh_from_db()


@admin.register(ItemLimitChange)
class ItemLimitChangeAdmin(admin.ModelAdmin):
    """The audit trail, read-only."""

    list_display = ["at", "item", "before", "after", "actor", "reason", "recompute"]
    list_select_related = ["item", "actor", "recompute"]
    search_fields = ["item__code", "item__name", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
