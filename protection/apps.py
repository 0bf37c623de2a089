from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "protection"
    verbose_name = "Capital protection"

    def ready(self):
        from orders.signals import order_filled
        from portfolio.signals import portfolio_synced

        from .exits import on_order_filled, on_portfolio_synced

        order_filled.connect(on_order_filled, dispatch_uid="protection.arm_on_fill")
        portfolio_synced.connect(on_portfolio_synced, dispatch_uid="protection.reconcile")
