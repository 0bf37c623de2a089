"""Re-encrypt every stored broker secret under the newest key.

After a rotation (new SECRET_KEY with the old one in SECRET_KEY_FALLBACKS, or a
new salt prepended to FIELD_ENCRYPTION_SALTS) old rows still decrypt; this
rewrites them so the old key can be retired. A row no key opens is reported
and left untouched, and the command exits non-zero.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from sigmatrader.crypto import UnreadableSecret, encrypted_fields


def encrypted_models() -> list[type[models.Model]]:
    """Every installed model with encrypted columns: broker credentials and sessions,
    two-factor keys, the notifications bot's token, and whatever an app adds later
    (found, not listed: a layer below cannot name the apps above it)."""
    return [model for model in apps.get_models() if encrypted_fields(model)]


class Command(BaseCommand):
    help = "Re-encrypt stored broker credentials and sessions with the newest key."

    def handle(self, *args, **options):
        done, failed = 0, []
        for model in encrypted_models():
            names = [f.name for f in encrypted_fields(model)]
            for field in encrypted_fields(model):
                field.reset_keys()
            for pk in model._default_manager.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    row = model._default_manager.select_for_update().get(pk=pk)
                    if any(isinstance(getattr(row, name), UnreadableSecret) for name in names):
                        failed.append(f"{model.__name__} #{pk}")
                        continue
                    row.save(update_fields=names)
                done += 1
        self.stdout.write(f"re-encrypted {done} row(s)")
        if failed:
            raise CommandError(
                f"{len(failed)} row(s) could not be decrypted and were left as they are: "
                + ", ".join(failed)
            )
