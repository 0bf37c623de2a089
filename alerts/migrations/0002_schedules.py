"""Beat: evaluate alert rules every 5 s, fetch the candles they need every minute, sweep\nAUTO alert orders a lost worker left behind every 30 s."""

from django.db import migrations

TASKS = {
    "Evaluate alert rules": ("alerts.evaluate_alerts", 5),
    "Fetch candles for alert rules": ("alerts.fetch_candles", 60),
    "Sweep AUTO alert orders a lost worker left behind": ("alerts.sweep_auto_orders", 30),
}


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, seconds) in TASKS.items():
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every, "enabled": True}
        )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[task for task, _ in TASKS.values()]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
