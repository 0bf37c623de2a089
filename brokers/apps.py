from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "brokers"
    verbose_name = "Brokers"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
