"""Queue a Celery task by its registered name.

A service never imports its app's `tasks` module: the tasks call the
services, so the import would run both ways (the circle
tests/architecture/test_layers.py forbids). Services enqueue through here;
tests/architecture/test_task_names.py checks every name given here is a
registered task.
"""

from __future__ import annotations

from celery import current_app


def task(name: str):
    """The task registered as `name`; KeyError for a name no task has.

    A web process never imports the apps' tasks modules by itself (the worker
    does at start), so the first lookup of an unknown name imports them."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue(task_name: str, *args, **options):
    """`apply_async` of the task registered as `task_name` (options as Celery's:
    countdown, queue…)."""
    return task(task_name).apply_async(args=args, **options)
