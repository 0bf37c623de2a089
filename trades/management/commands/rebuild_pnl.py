"""Rebuild the round trips of a user (all accounts, or one) from their fills."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from brokers.models import BrokerAccount
from trades import services


class Command(BaseCommand):
    help = "Re-run the FIFO matching of a user's fills into round trips (P&L)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--account", type=int, help="one account's id (default: all)")

    def handle(self, *args, user, account=None, **options):
        try:
            owner = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}.") from exc
        target = None
        if account is not None:
            target = BrokerAccount.objects.filter(user=owner, pk=account).first()
            if target is None:
                raise CommandError(f"{user} has no account with id {account}.")
        result = services.rebuild(user=owner, account=target)
        where = target.display_name if target else "all accounts"
        self.stdout.write(
            f"{user}, {where}: {result.fills} fills -> {result.round_trips} round trips, "
            f"{result.open_lots} open lots"
        )
