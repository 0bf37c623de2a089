"""Import aliases from JSON: {"<broker or *>": {"<exchange>": {"<from>": "<to>"}}}."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from brokers import registry
from marketdata.aliases import import_aliases


class Command(BaseCommand):
    help = "Create or update symbol aliases from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        known = {adapter.name for adapter in registry.all_adapters()}
        try:
            with transaction.atomic():
                created, updated = import_aliases(data, known_brokers=known)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"aliases: {created} created, {updated} updated")
