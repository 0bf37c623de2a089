"""The paper book keeps only a hash of its session token (issue 13, item 8).

Existing tokens are hashed in place, so connected paper accounts stay connected."""

import hashlib

from django.db import migrations


def hash_tokens(apps, schema_editor):
    PaperBook = apps.get_model("paper", "PaperBook")
    for book in PaperBook.objects.exclude(session_token_hash=""):
        digest = hashlib.sha256(book.session_token_hash.encode("utf-8", "surrogatepass"))
        book.session_token_hash = digest.hexdigest()
        book.save(update_fields=["session_token_hash"])


class Migration(migrations.Migration):
    dependencies = [("paper", "0002_schedules")]

    operations = [
        migrations.RenameField("paperbook", "session_token", "session_token_hash"),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
    ]
