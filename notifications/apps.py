from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from django.db.models.signals import post_save

        from orders.models import OrderEvent, WebhookAlert
        from orders.signals import order_events_written
        from sigmatrader.models import SystemEvent
        from sigmatrader.settings_page import register_section

        from . import receivers
        from .presentation import settings_section

        post_save.connect(
            receivers.on_order_event, sender=OrderEvent, dispatch_uid="notifications.order"
        )
        order_events_written.connect(
            receivers.on_order_events_written, dispatch_uid="notifications.sync"
        )
        post_save.connect(
            receivers.on_system_event, sender=SystemEvent, dispatch_uid="notifications.system"
        )
        post_save.connect(
            receivers.on_webhook_alert, sender=WebhookAlert, dispatch_uid="notifications.webhook"
        )
        register_section(settings_section)  # the notifications card
