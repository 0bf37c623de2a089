"""Rebuild the round trips of a user (all accounts, or one) from their fills."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from brokers.models import BrokerAccount
from trades import services


class Command(BaseCommand):
    help = "Re-run the FIFO matching of a user's fills into round trips (P&L)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument(
            "--account", help="one account's id or label, as the app shows it (default: all)"
        )

    def handle(self, *args, user, account=None, **options):
        try:
            owner = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}.") from exc
        target = None
        if account is not None:
            mine = BrokerAccount.objects.filter(user=owner)
            wanted = str(account).strip()
            found = [a for a in mine if wanted in (str(a.pk), a.label, a.display_name)]
            if not found:
                names = ", ".join(f"{a.pk} ({a.display_name})" for a in mine) or "none"
                raise CommandError(f"{user} has no account {account!r}. Accounts: {names}.")
            if len(found) > 1:
                raise CommandError(f"{account!r} names {len(found)} accounts: give the id.")
            target = found[0]
        result = services.rebuild(user=owner, account=target)
        where = target.display_name if target else "all accounts"
        self.stdout.write(
            f"{user}, {where}: {result.fills} fills -> {result.round_trips} round trips, "
            f"{result.open_lots} open lots"
        )
