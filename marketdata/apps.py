from django.apps import AppConfig


class MarketDataConfig(AppConfig):
    name = "marketdata"
    verbose_name = "Market data"

    def ready(self):
        from brokers.signals import account_connected
        from sigmatrader.settings_page import register_section

        from .presentation import settings_section
        from .readiness import on_account_connected

        account_connected.connect(on_account_connected, dispatch_uid="marketdata.instruments")
        register_section(settings_section)  # the instruments card
