from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from . import (
            checks,  # noqa: F401 (registers the system checks)
            webhook_routes,  # noqa: F401 (connects its invalidation signals)
        )
