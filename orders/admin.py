from django.contrib import admin

from .models import Order, OrderEvent, RiskPolicy, TradingHalt


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "actor", "from_status", "to_status", "message", "details")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "account_name",
        "symbol",
        "side",
        "quantity",
        "order_type",
        "status",
        "broker_order_id",
        "client_tag",
    )
    list_filter = ("status", "source", "order_type", "is_gtt")
    search_fields = ("symbol", "broker_order_id", "client_tag", "user__username")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    inlines = [OrderEventInline]
    readonly_fields = [f.name for f in Order._meta.fields]

    # Orders change only through the execution service and the sync.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RiskPolicy)
class RiskPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "strategy",
        "max_order_value",
        "max_quantity",
        "max_orders_per_day",
        "max_open_positions",
        "allow_short_selling",
        "mode",
    )


@admin.register(TradingHalt)
class TradingHaltAdmin(admin.ModelAdmin):
    list_display = ("trading_day", "user", "account_name", "reason", "created_at", "released_at")
    list_filter = ("reason", "trading_day")
    readonly_fields = ("user", "account", "trading_day", "reason", "figures", "created_by")
