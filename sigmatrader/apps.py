from django.apps import AppConfig


class SigmaTraderConfig(AppConfig):
    name = "sigmatrader"
    verbose_name = "SigmaTrader"

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in audit receivers)
