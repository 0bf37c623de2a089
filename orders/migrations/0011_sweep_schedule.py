"""The sweeper every 30 seconds (orders/recovery.py); editable in the admin."""

from django.db import migrations

TASK = "orders.sweep_stranded_orders"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Sweep orders a lost worker left behind",
        defaults={"task": TASK, "interval": every, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0010_strategy_plural")]

    operations = [migrations.RunPython(forwards, backwards)]
