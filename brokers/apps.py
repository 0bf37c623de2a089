from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "brokers"
    verbose_name = "Brokers"

    def ready(self):
        from sigmatrader.settings_page import register_section

        from . import checks  # noqa: F401 (registers the system checks)
        from .presentation import settings_context

        register_section(settings_context)  # the accounts card
