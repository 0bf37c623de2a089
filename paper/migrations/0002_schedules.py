"""Resting paper orders checked every 3 seconds (market hours; the task checks) and
the intraday square-off checked every minute; editable in the admin."""

from django.db import migrations

CHECK, SQUARE_OFF = "paper.check_orders", "paper.square_off_intraday"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_3s, _ = IntervalSchedule.objects.get_or_create(every=3, period="seconds")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Paper trading: check resting orders",
        defaults={"task": CHECK, "interval": every_3s, "enabled": True},
    )
    PeriodicTask.objects.get_or_create(
        name="Paper trading: intraday square-off",
        defaults={"task": SQUARE_OFF, "interval": every_minute, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[CHECK, SQUARE_OFF]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("paper", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
