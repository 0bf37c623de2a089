"""Create the demo user, its two broker accounts (pointed at the emulator) and a
paper account priced by the AngelOne one."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from brokers import accounts, connections
from brokers.base import ConnectFlow
from brokers.models import BrokerAccount
from emulator.demo import KITE, SMART

USERNAME, PASSWORD = "demo", "demo-trader-2026"


class Command(BaseCommand):
    help = "Create the demo user with one account of each emulated broker, and a paper one."

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        if user is None:
            user = User.objects.create_superuser(USERNAME, "demo@example.com", PASSWORD)
        wanted = [
            ("zerodha", "main", {"api_key": KITE["api_key"], "api_secret": KITE["api_secret"]}),
            # PIN and TOTP secret stored: one click connects, and beat re-logs in daily.
            (
                "angelone",
                "family",
                {
                    "api_key": SMART["api_key"],
                    "client_code": SMART["client_code"],
                    "pin": SMART["pin"],
                    "totp_secret": SMART["totp_secret"],
                },
            ),
            ("paper", "practice", {"starting_cash": "1000000", "price_source": "family"}),
        ]
        for broker, label, credentials in wanted:
            if not BrokerAccount.objects.filter(user=user, label=label).exists():
                account = accounts.create_account(
                    user=user, broker=broker, label=label, credentials=credentials
                )
                if account.adapter_class.connect_flow is ConnectFlow.NONE:
                    connections.connect_with_credentials(account=account, per_connect={})
        self.stdout.write(f"demo user: {USERNAME} / {PASSWORD}")
