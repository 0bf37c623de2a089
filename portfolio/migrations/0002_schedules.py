"""Portfolio sync every 5 minutes (market hours only, the task checks) and the
end-of-day snapshot at 15:45 India time on weekdays; editable in the admin."""

from django.db import migrations

SYNC, END_OF_DAY = "portfolio.sync_portfolio", "portfolio.end_of_day"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Sync portfolio", defaults={"task": SYNC, "interval": every, "enabled": True}
    )
    after_close, _ = CrontabSchedule.objects.get_or_create(
        minute="45",
        hour="15",
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Kolkata",
    )
    PeriodicTask.objects.get_or_create(
        name="Portfolio end-of-day snapshot",
        defaults={"task": END_OF_DAY, "crontab": after_close, "enabled": True},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[SYNC, END_OF_DAY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
