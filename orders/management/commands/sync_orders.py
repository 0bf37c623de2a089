from django.core.management.base import BaseCommand

from orders.sync import order_sync_all


class Command(BaseCommand):
    help = "Sync live orders from each connected account's order book once."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="only this account id")

    def handle(self, *args, account=None, **options):
        results = order_sync_all(account)
        if not results:
            self.stdout.write("no account has live orders")
        for result in results:
            if result.error:
                self.stderr.write(f"account {result.account_id}: failed: {result.error}")
            else:
                self.stdout.write(
                    f"account {result.account_id}: {result.checked} live, {result.updated} "
                    f"updated, {result.reconciled} reconciled by tag, {result.failed} not received"
                )
