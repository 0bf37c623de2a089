from django.core.management.base import BaseCommand

from brokers import connections


class Command(BaseCommand):
    help = "Refresh, re-login or expire broker sessions once (what the beat task does)."

    def handle(self, *args, **options):
        counts = connections.refresh_all_sessions()
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no accounts"
        self.stdout.write(f"broker sessions: {summary}")
