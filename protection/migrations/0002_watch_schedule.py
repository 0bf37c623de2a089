"""The loss-limit watch every 20 seconds (protection/limits.py); editable in the admin."""

from django.db import migrations

TASK = "protection.watch_limits"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=20, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Watch daily loss limits and retry halts' actions",
        defaults={"task": TASK, "interval": every, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0001_loss_limits"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
