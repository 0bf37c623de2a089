from django.contrib import admin

from .models import AuthenticatorDevice, SiteSetup, SystemEvent


@admin.register(SystemEvent)
class SystemEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "level", "category", "user", "message", "correlation_id")
    list_filter = ("level", "category", "created_at")
    search_fields = ("message", "correlation_id", "user__username")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = [f.name for f in SystemEvent._meta.fields]

    # The audit trail is written by the app only: no adding or editing by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SiteSetup)
class SiteSetupAdmin(admin.ModelAdmin):
    list_display = ("id", "completed_at")

    def has_add_permission(self, request):
        return False


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    """Operators may see and delete a user's two-factor device (to let a user who lost
    their phone back in), never its key."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The admin's own login form knows nothing of two-factor codes or throttling: it
# sends people to the app's sign-in page instead.
def _admin_login(request, extra_context=None):
    from .auth_views import admin_login

    return admin_login(request, extra_context)


admin.site.login = _admin_login
