"""Beat schedules: deliver what the outbox still holds (every 30 s), read the bot's
messages (every 10 s), the daily-login reminder (08:30 India time) and the
end-of-day summary (16:00), weekdays; editable in the admin."""

from django.db import migrations

SWEEP, POLL = "notifications.sweep_outbox", "notifications.poll_telegram"
REMIND, SUMMARY = "notifications.login_reminders", "notifications.day_summaries"


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in (
        ("Notifications: deliver the outbox", SWEEP, 30),
        ("Notifications: read Telegram messages", POLL, 10),
    ):
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every, "enabled": True}
        )
    for name, task, hour, minute in (
        ("Notifications: daily login reminder", REMIND, "8", "30"),
        ("Notifications: end-of-day summary", SUMMARY, "16", "0"),
    ):
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="1-5",
            day_of_month="*",
            month_of_year="*",
            timezone="Asia/Kolkata",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
        )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[SWEEP, POLL, REMIND, SUMMARY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
