from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "trades"
    verbose_name = "Trades and P&L"

    def ready(self):
        from brokers.signals import account_reset
        from orders.signals import order_filled

        from .capture import on_order_filled
        from .services import on_account_reset

        order_filled.connect(on_order_filled, dispatch_uid="trades.capture_on_fill")
        account_reset.connect(on_account_reset, dispatch_uid="trades.forget_on_reset")
