"""Managed GTT checks every 5 seconds (the task does nothing off hours); editable in the admin."""

from django.db import migrations

TASK = "orders.check_conditional_orders"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="Check conditional (GTT) orders",
        defaults={"task": TASK, "interval": every, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_sync_schedule")]

    operations = [migrations.RunPython(forwards, backwards)]
