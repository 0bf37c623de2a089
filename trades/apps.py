from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "trades"
    verbose_name = "Trades and P&L"

    def ready(self):
        from orders.signals import order_filled

        from .capture import on_order_filled

        order_filled.connect(on_order_filled, dispatch_uid="trades.capture_on_fill")
