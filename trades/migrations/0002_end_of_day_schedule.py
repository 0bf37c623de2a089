"""Read every account's trade book at 15:50 India time on weekdays (after the close,
before the brokers clear the day's book); editable in the admin."""

from django.db import migrations

TASK = "trades.end_of_day"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    after_close, _ = CrontabSchedule.objects.get_or_create(
        minute="50",
        hour="15",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Kolkata",
    )
    PeriodicTask.objects.get_or_create(
        name="Capture trade books", defaults={"task": TASK, "crontab": after_close, "enabled": True}
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trades", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
