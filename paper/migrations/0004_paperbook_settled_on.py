"""Paper delivery trades settle into holdings on the next trading day (as at the
real brokers). Existing books already hold every past fill in their holdings, so
they start as settled through today (the next day's date): nothing is folded in
twice."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import migrations, models


def settled_today(apps, schema_editor):
    PaperBook = apps.get_model("paper", "PaperBook")
    tomorrow = datetime.now(ZoneInfo("Asia/Kolkata")).date() + timedelta(days=1)
    PaperBook.objects.update(settled_on=tomorrow)


class Migration(migrations.Migration):
    dependencies = [("paper", "0003_session_token_hash")]

    operations = [
        migrations.AddField(
            model_name="paperbook",
            name="settled_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(settled_today, migrations.RunPython.noop),
    ]
