"""Operators look; fills and round trips are changed by capture, import and rebuild."""

from django.contrib import admin

from .models import Adjustment, CapturedDay, OpeningLot, RoundTrip, Trade


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Trade)
class TradeAdmin(ReadOnly):
    list_display = ("traded_at", "account_name", "symbol", "side", "quantity", "price", "origin")
    list_filter = ("origin", "side", "product")
    search_fields = ("symbol", "broker_trade_id", "broker_order_id")


@admin.register(RoundTrip)
class RoundTripAdmin(ReadOnly):
    list_display = ("closed_at", "account_name", "symbol", "quantity", "net", "classification")
    list_filter = ("classification", "financial_year")
    search_fields = ("symbol", "strategy")


@admin.register(CapturedDay)
class CapturedDayAdmin(ReadOnly):
    list_display = ("day", "account", "via", "captured_at")


@admin.register(OpeningLot)
class OpeningLotAdmin(admin.ModelAdmin):
    list_display = ("account", "symbol", "quantity", "average_price", "as_of", "acquired_on")


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    list_display = ("ex_date", "symbol", "kind", "old", "new", "user")
