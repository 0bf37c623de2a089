from django.contrib import admin

from .models import BasketRun, Member, Watchlist


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = (
        "position",
        "exchange",
        "symbol",
        "section",
        "note",
        "weight",
        "amount",
        "quantity",
        "locked",
        "reference_price",
    )


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "kind", "mode", "funds", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "user__username")
    inlines = [MemberInline]


@admin.register(BasketRun)
class BasketRunAdmin(admin.ModelAdmin):
    list_display = ("watchlist", "account_name", "side", "executed_now", "created_at")
    list_filter = ("side",)
    readonly_fields = ("orders",)
