from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from brokers.base import BrokerError
from brokers.models import BrokerAccount
from marketdata.candles import accounts_with_history, fetch_candles
from marketdata.resolution import SymbolNotFound, resolve


class Command(BaseCommand):
    help = "Fetch candles into the broker-neutral store through a connected account."

    def add_arguments(self, parser):
        parser.add_argument("symbols", nargs="+", help="e.g. NSE:SBIN INFY 'NIFTY 50'")
        parser.add_argument("--interval", default="1d", help="1m 3m 5m 10m 15m 30m 1h 1d")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--account", type=int, help="account id (default: any that can)")

    def handle(self, *args, symbols, interval, days, account=None, **options):
        if account:
            chosen = BrokerAccount.objects.filter(pk=account).first()
            if chosen is None:
                raise CommandError(f"no account {account}")
        else:
            usable = accounts_with_history(interval=interval)
            if not usable:
                raise CommandError(f"no connected account offers {interval} candles")
            chosen = usable[0]
        end = timezone.now()
        start = end - timedelta(days=days)
        failures = 0
        for symbol in symbols:
            try:
                instrument = resolve(broker=chosen.broker, symbol=symbol)
                stored = fetch_candles(
                    account=chosen, instrument=instrument, interval=interval, start=start, end=end
                )
            except (SymbolNotFound, BrokerError) as exc:
                failures += 1
                self.stderr.write(f"{symbol}: {exc}")
                continue
            self.stdout.write(
                f"{instrument.exchange}:{instrument.canonical_symbol} {interval}: "
                f"{stored} candles via {chosen.display_name}"
            )
        if failures:
            raise CommandError(f"{failures} symbol(s) failed")
