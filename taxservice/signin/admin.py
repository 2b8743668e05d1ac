"""Read-only views of the sign-in trail and the tokens: no key is stored, so none is shown;
tokens are created and revoked on the tokens page (/api-tokens/), where each is audited."""

from django.contrib import admin

from taxservice.signin.models import ApiToken, ApiTokenEvent, SignInEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SignInEvent)
class SignInEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "event", "username", "ip", "user")
    list_filter = ("event",)
    search_fields = ("username", "ip")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "name", "user", "scope", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("prefix", "name", "user__username")
    exclude = ("key_hash",)


@admin.register(ApiTokenEvent)
class ApiTokenEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "event", "token", "actor", "reason")
