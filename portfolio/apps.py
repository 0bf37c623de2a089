from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self):
        from orders.signals import order_filled

        from .refresh import on_order_filled

        order_filled.connect(on_order_filled, dispatch_uid="portfolio.refresh_on_fill")
