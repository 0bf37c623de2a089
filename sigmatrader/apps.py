from django.apps import AppConfig


class SigmaTraderConfig(AppConfig):
    name = "sigmatrader"
    verbose_name = "SigmaTrader"

    def ready(self):
        from .log_filters import install_record_factory

        # Every log record of this process is scrubbed when made, at any level.
        install_record_factory()
        from . import signals  # noqa: F401  (connects the sign-in audit receivers)
        from .security_views import security_context
        from .settings_page import register_section

        register_section(security_context)  # the sign-in security card
