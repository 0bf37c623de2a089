"""Set the deployment's Telegram bot token (read from stdin, never an argument:
arguments end up in shell history and process lists)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from notifications.selectors import bot_status
from notifications.services import telegram_bot_set


class Command(BaseCommand):
    help = "Set (--set-token, token on stdin) or show the Telegram bot for notifications."

    def add_arguments(self, parser):
        parser.add_argument("--set-token", action="store_true", help="read the token from stdin")
        parser.add_argument("--username", default="", help="the bot's @username (shown to users)")

    def handle(self, *args, set_token=False, username="", **options):
        if set_token:
            token = sys.stdin.readline().strip()
            if ":" not in token:
                raise CommandError("That does not look like a bot token (digits:letters).")
            telegram_bot_set(token=token, username=username)
            self.stdout.write("Telegram bot token stored (encrypted).")
            return
        status = bot_status()
        if status.configured:
            self.stdout.write(f"Telegram bot set up: @{status.username or '?'} (token stored).")
        else:
            self.stdout.write("No Telegram bot token set.")
