from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "trades"
    verbose_name = "Trades and P&L"

    def ready(self):
        from django.db.models.signals import pre_delete

        from brokers.models import BrokerAccount
        from brokers.signals import account_reset
        from orders.signals import order_filled

        from .capture import on_order_filled
        from .history import on_account_deleting
        from .services import on_account_reset

        order_filled.connect(on_order_filled, dispatch_uid="trades.capture_on_fill")
        account_reset.connect(on_account_reset, dispatch_uid="trades.forget_on_reset")
        pre_delete.connect(
            on_account_deleting, sender=BrokerAccount, dispatch_uid="trades.keep_history"
        )
