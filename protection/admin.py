from django.contrib import admin

from .models import DayReading, HaltAction, LossLimit


@admin.register(LossLimit)
class LossLimitAdmin(admin.ModelAdmin):
    list_display = ("user", "account", "enabled", "loss_kind", "max_loss", "profit_target")
    list_filter = ("enabled", "loss_kind", "escalation")


@admin.register(DayReading)
class DayReadingAdmin(admin.ModelAdmin):
    list_display = ("account", "trading_day", "pnl", "start_capital", "read_at", "error")
    list_filter = ("trading_day",)


@admin.register(HaltAction)
class HaltActionAdmin(admin.ModelAdmin):
    list_display = ("halt", "kind", "label", "state", "attempts", "updated_at")
    list_filter = ("state", "kind")
    readonly_fields = ("halt", "kind", "target", "order", "attempts", "result")
