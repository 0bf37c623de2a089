"""Queue the instrument refreshes a fresh install needs (`make demo` runs it).

For every broker some account uses, whose instruments are missing: queued for
the worker (tried again a few times, so it may run before the broker or the
emulator listens). Settings → Instruments shows the progress.
"""

from django.core.management.base import BaseCommand

from brokers import registry
from brokers.models import BrokerAccount
from marketdata import readiness


class Command(BaseCommand):
    help = "Queue instrument refreshes for brokers whose instruments are missing."

    def handle(self, *args, **options):
        used = set(BrokerAccount.objects.values_list("broker", flat=True).distinct())
        connected = set(
            BrokerAccount.objects.filter(status=BrokerAccount.Status.CONNECTED)
            .values_list("broker", flat=True)
            .distinct()
        )
        for adapter in registry.all_adapters():
            if adapter.name not in used or not readiness.is_missing(adapter.name):
                continue
            if not (adapter.public_instrument_master_url() or adapter.name in connected):
                continue  # a master that needs a session loads when an account connects
            queued = readiness.queue_refresh(adapter.name, attempts=readiness.AUTOMATIC_ATTEMPTS)
            self.stdout.write(f"{adapter.label} instruments: {'queued' if queued else 'loading'}")
