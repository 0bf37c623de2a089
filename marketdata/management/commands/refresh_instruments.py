import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from brokers import registry
from marketdata import refresh


class Command(BaseCommand):
    help = "Refresh broker instrument masters atomically (all eligible brokers by default)."

    def add_arguments(self, parser):
        parser.add_argument("--broker", help="registry name of one broker")
        parser.add_argument("--source", help="a master file or URL instead of the broker's own")
        parser.add_argument(
            "--exchange",
            nargs="+",
            dest="exchanges",
            metavar="EXCHANGE",
            help="only these exchanges (others are left as they are)",
        )

    def handle(self, *args, broker=None, source=None, exchanges=None, **options):
        if source and not broker:
            raise CommandError("--source needs --broker (whose format the file is in)")
        if broker:
            try:
                registry.get_adapter_class(broker)
            except registry.UnknownBroker as exc:
                raise CommandError(str(exc)) from exc
        brokers = [broker] if broker else refresh.brokers_to_refresh()
        if not brokers:
            self.stdout.write("no broker to refresh (none has a connected account)")
            return
        failed = []
        for name in brokers:
            bar = tqdm(
                desc=f"{name} instruments",
                unit=" rows",
                unit_scale=True,
                disable=not sys.stderr.isatty(),
                file=sys.stderr,
            )
            try:
                run = refresh.refresh_instruments(
                    broker=name, source=source, exchanges=exchanges, progress=bar.update
                )
            except refresh.RefreshFailed as exc:
                bar.close()
                failed.append(name)
                self.stderr.write(f"{name}: failed, previous master kept: {exc}")
                continue
            bar.close()
            self.stdout.write(
                f"{name}: {run.rows:,} rows (+{run.added:,} added, -{run.removed:,} removed, "
                f"~{run.changed:,} changed, {run.skipped:,} duplicates skipped) "
                f"in {run.seconds:.1f}s"
            )
        if failed:
            raise CommandError(f"refresh failed for: {', '.join(failed)}")
