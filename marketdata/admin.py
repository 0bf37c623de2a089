from django.contrib import admin

from brokers import registry

from .models import Candle, Instrument, InstrumentRefresh, SymbolAlias
from .resolution import bump_version


@admin.register(InstrumentRefresh)
class InstrumentRefreshAdmin(admin.ModelAdmin):
    list_display = (
        "broker",
        "status",
        "started_at",
        "finished_at",
        "rows",
        "added",
        "removed",
        "changed",
        "skipped",
    )
    list_filter = ("broker", "status")
    readonly_fields = [f.name for f in InstrumentRefresh._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SymbolAlias)
class SymbolAliasAdmin(admin.ModelAdmin):
    list_display = ("source", "target", "exchange", "broker")
    list_filter = ("broker", "exchange")
    search_fields = ("source", "target")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.broker:
            bump_version(obj.broker)
        else:
            _bump_all()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _bump_all()


def _bump_all():
    for adapter in registry.all_adapters():
        bump_version(adapter.name)


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = (
        "trading_symbol",
        "canonical_symbol",
        "exchange",
        "broker",
        "instrument_type",
        "lot_size",
        "tick_size",
        "expiry",
        "strike",
        "token",
    )
    list_filter = ("broker", "exchange", "instrument_type")
    search_fields = ("trading_symbol", "canonical_symbol", "token", "name")
    show_full_result_count = False  # counting 2 lakh rows on every page is slow

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # masters come from the brokers; aliases are the place to adjust


@admin.register(Candle)
class CandleAdmin(admin.ModelAdmin):
    list_display = ("canonical_symbol", "exchange", "interval", "at", "close", "volume")
    list_filter = ("interval", "exchange")
    search_fields = ("canonical_symbol",)
