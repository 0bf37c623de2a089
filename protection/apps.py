"""Capital protection: exits armed on an entry's fill (stop-loss, target,
trailing stop), the daily loss limit / profit target, and the kill switch.

Sits above portfolio (it needs positions and square-off). What an order
carries (its exit plan) and the halt checked inside the execution claim live
in `orders`, which cannot import this app; this app listens to
`orders.signals.order_filled` and acts through the orders and portfolio
services.
"""

from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "protection"
    verbose_name = "Capital protection"

    def ready(self):
        from orders.halts import register_exit_check, register_webhook_policy
        from orders.signals import order_filled
        from portfolio.signals import portfolio_synced
        from sigmatrader.settings_page import register_section

        from .entries import only_reduces
        from .exits.arming import on_order_filled
        from .exits.reconcile import on_portfolio_synced
        from .halts import current_webhook_policy
        from .views import settings_section

        register_exit_check(only_reduces)  # what a trading halt lets through
        register_webhook_policy(current_webhook_policy)  # AUTO alerts during a halt, now
        register_section(settings_section)  # the Settings → Risk card
        order_filled.connect(on_order_filled, dispatch_uid="protection.arm_on_fill")
        portfolio_synced.connect(on_portfolio_synced, dispatch_uid="protection.reconcile")
