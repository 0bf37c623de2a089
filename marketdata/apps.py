from django.apps import AppConfig


class MarketDataConfig(AppConfig):
    name = "marketdata"
    verbose_name = "Market data"

    def ready(self):
        from brokers.signals import account_connected

        from .readiness import on_account_connected

        account_connected.connect(on_account_connected, dispatch_uid="marketdata.instruments")
