"""Run the broker emulator (Kite Connect v3 + SmartAPI) on a loopback port."""

import pyotp
from django.core.management.base import BaseCommand

from brokers.emulator import EmulatorServer, EmulatorState
from brokers.emulator.demo import KITE, SMART, demo_state


class Command(BaseCommand):
    help = "Serve the broker emulator; --demo adds the demo users `make demo` uses."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--demo", action="store_true", help="add the demo users and holdings")
        parser.add_argument(
            "--market",
            choices=["open", "closed", "exchange"],
            default="open",
            help="the emulated market's clock: always open (default, the demo), "
            "closed (regular orders refused, AMO accepted) or real NSE hours",
        )
        parser.add_argument(
            "--app-url",
            default="http://127.0.0.1:8000",
            help="where the emulated Kite login redirects back to",
        )

    def handle(self, *args, host, port, demo, app_url, market, **options):
        state = demo_state(app_url.rstrip("/")) if demo else EmulatorState()
        state.set_market(market)
        server = EmulatorServer(state, host=host, port=port)
        self.stdout.write(f"broker emulator on {server.url} (market: {market})")
        if demo:
            self.stdout.write(
                f"  Kite login: user ID {KITE['user_id']}, password {KITE['password']}\n"
                f"  SmartAPI: client code {SMART['client_code']}, PIN {SMART['pin']}, "
                f"TOTP now {pyotp.TOTP(SMART['totp_secret']).now()}"
            )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
