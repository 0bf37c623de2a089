from django.contrib import admin, messages

from . import accounts, connections
from .models import BrokerAccount


@admin.register(BrokerAccount)
class BrokerAccountAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "user",
        "broker",
        "status",
        "secrets_readable",
        "session_expires_at",
        "last_checked_at",
        "is_default",
    )
    list_filter = ("broker", "status", "is_default")
    search_fields = ("label", "user__username", "broker_user_id")
    list_select_related = ("user",)
    # Credentials and session are never shown or edited here.
    exclude = ("credentials", "session")
    readonly_fields = (
        "user",
        "broker",
        "status",
        "session_expires_at",
        "broker_user_id",
        "last_error",
        "last_checked_at",
        "connected_at",
        "created_at",
        "updated_at",
        "stored_credentials",
    )
    actions = ["check_now", "refresh_now", "reset_secrets"]

    @admin.display(description="Stored credentials")
    def stored_credentials(self, obj):
        if obj.secrets_unreadable:
            return "unreadable with the configured keys (reset them, or delete the account)"
        return ", ".join(sorted(obj.stored_credential_names())) or "none"

    @admin.display(description="Secrets readable", boolean=True)
    def secrets_readable(self, obj):
        return not obj.secrets_unreadable

    @admin.action(description="Reset stored credentials and session (the owner enters them again)")
    def reset_secrets(self, request, queryset):
        for account in queryset:
            accounts.reset_secrets(account=account, actor=request.user.get_username())
        messages.info(request, f"Credentials cleared on {queryset.count()} account(s).")

    def has_add_permission(self, request):
        return False  # accounts are added by their owner in Settings

    @admin.action(description="Check now (ask the broker)")
    def check_now(self, request, queryset):
        ok = sum(connections.check(account=account) for account in queryset)
        messages.info(
            request, f"{ok} of {queryset.count()} account(s) answered with a live session."
        )

    @admin.action(description="Refresh session")
    def refresh_now(self, request, queryset):
        outcomes = [connections.refresh_session(account=account) for account in queryset]
        summary = ", ".join(f"{o}: {outcomes.count(o)}" for o in sorted(set(outcomes)))
        messages.info(request, f"Session refresh: {summary or 'nothing selected'}.")
