"""Import a TradingView or CSV file into a user's list, as the Import page does.

    manage.py import_watchlist --user alice --file banks.txt --name Banks [--account 3]
        [--kind BASKET] [--into-existing] [--dry-run]

Symbols resolve for the account's broker (default: the user's default account);
unknown, unreadable and duplicate rows are reported and skipped; the rest is saved
in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from brokers.models import BrokerAccount
from watchlists import importing, services
from watchlists.models import Watchlist


class Command(BaseCommand):
    help = "Import a TradingView watchlist export or a CSV into a user's list."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--file", required=True)
        parser.add_argument("--name", required=True, help="The list to create (or fill).")
        parser.add_argument("--account", type=int, help="Resolve for this account's broker.")
        parser.add_argument("--kind", choices=Watchlist.Kind.values, default="WATCHLIST")
        parser.add_argument("--into-existing", action="store_true", help="Add to the list named.")
        parser.add_argument("--dry-run", action="store_true", help="Show the preview only.")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {options['user']!r}.") from None
        accounts = BrokerAccount.objects.filter(user=user)
        account = (
            accounts.filter(pk=options["account"]).first()
            if options["account"]
            else accounts.filter(is_default=True).first() or accounts.first()
        )
        if account is None:
            raise CommandError("That user has no such broker account to resolve symbols for.")
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            raw = importing.decode(data)
            if importing.looks_like_csv(raw):
                header, _ = importing.csv_header(raw)
                rows = importing.parse_csv(raw, importing.guess_mapping(header))
            else:
                rows = importing.parse_tradingview(raw)
        except importing.ImportRefused as exc:
            raise CommandError(exc.message) from None
        items = importing.preview(rows, broker=account.broker)
        for item in items:
            if not item.imported or item.status != importing.RESOLVED:
                self.stdout.write(
                    f"line {item.row.line}: {item.row.raw}: {item.status}. {item.message}"
                )
        counts = importing.counts(items)
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        self.stdout.write(f"Checked against {account.display_name}: {summary}.")
        if options["dry_run"]:
            return
        into = None
        if options["into_existing"]:
            into = Watchlist.objects.filter(user=user, name=options["name"]).first()
            if into is None:
                raise CommandError(f"{user.username} has no list named {options['name']!r}.")
        try:
            result = services.import_rows(
                user=user, items=items, watchlist=into, name=options["name"], kind=options["kind"]
            )
        except services.Refused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.added} into {result.watchlist.name} "
                f"({result.already} already there, {result.skipped} skipped)."
            )
        )
