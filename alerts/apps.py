from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and screener"

    def ready(self):
        from django.db.models.signals import pre_delete

        from brokers.models import BrokerAccount

        from .signals import on_account_removed

        pre_delete.connect(on_account_removed, sender=BrokerAccount, dispatch_uid="alerts.account")
