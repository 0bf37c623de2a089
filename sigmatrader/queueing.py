"""Queue a Celery task by its registered name.

A service never imports its app's `tasks` module: the tasks call the
services, so the import would run both ways (the circle
tests/architecture/test_layers.py forbids). Services enqueue through here;
tests/architecture/test_task_names.py checks every name given here is a
registered task.
"""

from __future__ import annotations

import threading

from celery import current_app

_loading = threading.Lock()
_loaded = False


def load_tasks() -> None:
    """Import every app's tasks module, once per process, whichever thread asks.

    A web process never imports them by itself (the worker does at start).
    Celery's loader is not safe to call from two threads at once: the second
    caller returns while the first is still importing, and its lookup fails
    (a cold gunicorn with threads lost its first alerts' enqueues to that,
    leaving them to the recovery sweeper). The lock makes every caller wait
    for the one import."""
    global _loaded
    with _loading:
        if not _loaded:
            current_app.loader.import_default_modules()
            _loaded = True


def task(name: str):
    """The task registered as `name`; KeyError for a name no task has."""
    if name not in current_app.tasks:
        load_tasks()
    return current_app.tasks[name]


def enqueue(task_name: str, *args, **options):
    """`apply_async` of the task registered as `task_name` (options as Celery's:
    countdown, queue…)."""
    return task(task_name).apply_async(args=args, **options)
