from django.core.management.base import BaseCommand, CommandError

from portfolio.sync import accounts_for_portfolio_sync, portfolio_sync_all


class Command(BaseCommand):
    help = "Sync holdings, positions and funds from connected broker accounts."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="only this account (its id)")

    def handle(self, *args, account=None, **options):
        if account and not accounts_for_portfolio_sync(account).exists():
            raise CommandError(f"No connected account with id {account}.")
        failed = 0
        for result in portfolio_sync_all(account):
            if result.ok:
                self.stdout.write(
                    f"account {result.account_id}: {result.holdings} holdings, "
                    f"{result.positions} positions"
                )
            else:
                failed += 1
                self.stderr.write(f"account {result.account_id}: {result.error}")
        if failed:
            raise CommandError(f"{failed} account(s) failed to sync.")
