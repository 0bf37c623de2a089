from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from sigmatrader.settings_page import register_section

        from . import (
            checks,  # noqa: F401 (registers the system checks)
            webhook_routes,  # noqa: F401 (connects its invalidation signals)
        )
        from .strategy_views import settings_section

        register_section(settings_section)  # the risk limits and webhook cards
