"""The daily instrument refresh (08:00 India time, editable in the admin) and the
TradingView index names every broker shares."""

from django.db import migrations

TASK = "marketdata.refresh_instruments"
INDEX_ALIASES = [
    ("NSE", "NIFTY", "NIFTY 50"),
    ("NSE", "NIFTY50", "NIFTY 50"),
    ("NSE", "BANKNIFTY", "NIFTY BANK"),
    ("NSE", "FINNIFTY", "NIFTY FIN SERVICE"),
    ("NSE", "MIDCPNIFTY", "NIFTY MID SELECT"),
    ("NSE", "CNXIT", "NIFTY IT"),
]


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    at_eight, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="8", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Kolkata",
    )
    PeriodicTask.objects.get_or_create(
        name="Refresh instrument masters",
        defaults={"task": TASK, "crontab": at_eight, "enabled": True},
    )
    SymbolAlias = apps.get_model("marketdata", "SymbolAlias")
    for exchange, source, target in INDEX_ALIASES:
        SymbolAlias.objects.get_or_create(
            broker="", exchange=exchange, source=source, defaults={"target": target}
        )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketdata", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
