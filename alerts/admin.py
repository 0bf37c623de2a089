from django.contrib import admin

from .models import AlertEvent, AlertRule, AlertState, ScreenerRun


class AlertStateInline(admin.TabularInline):
    model = AlertState
    extra = 0
    can_delete = False
    readonly_fields = ("key", "previous", "last_bar_at", "last_fired_at", "last_fired_bar")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "user",
        "enabled",
        "target",
        "cadence",
        "trigger",
        "action",
        "status_ok",
        "last_evaluated_at",
        "last_fired_at",
        "fired_count",
    )
    list_filter = ("enabled", "target", "cadence", "trigger", "action", "status_ok")
    search_fields = ("name", "symbol", "expression", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user", "holdings_account", "action_account")
    readonly_fields = (
        "created_at",
        "updated_at",
        "last_evaluated_at",
        "last_fired_at",
        "fired_count",
        "status_ok",
        "status_message",
    )
    inlines = [AlertStateInline]


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "user", "rule", "symbol", "account", "order", "seen")
    list_filter = ("seen",)
    search_fields = ("symbol", "message", "outcome", "user__username")
    date_hierarchy = "at"
    list_select_related = ("user", "rule", "account", "order")
    readonly_fields = [f.name for f in AlertEvent._meta.fields]

    # Events are history: written by the evaluator only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScreenerRun)
class ScreenerRunAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "user", "universe", "segment", "status", "total", "matched")
    list_filter = ("status", "universe")
    readonly_fields = [f.name for f in ScreenerRun._meta.fields]

    def has_add_permission(self, request):
        return False
