from django.contrib import admin

from .models import Notification, Preferences


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "channel", "kind", "state", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "state", "kind")
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "email_enabled", "telegram_enabled")
    exclude = ("telegram_link_hash",)
