"""Protection's beat rows (editable in the admin): trailing every 5 s, the sweep every 15 s."""

from django.db import migrations

ROWS = [
    ("Trail protective stops", "protection.trail_stops", 5),
    ("Sweep exit plans (missed fills, retries)", "protection.sweep", 15),
]


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in ROWS:
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every, "enabled": True}
        )


def backwards(apps, schema_editor):
    tasks = [task for _, task, _ in ROWS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=tasks).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0002_watch_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
