"""Enqueueing by task name from a process that has not imported the tasks yet:
a cold web process (gunicorn, threads) answering the first alerts of a burst."""

import os
import subprocess
import sys
import textwrap

from django.conf import settings

COLD_PROCESS = textwrap.dedent(
    """
    import os, threading
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
    import django
    django.setup()
    from sigmatrader.celery import app
    from sigmatrader.queueing import task

    assert "orders.execute_order" not in app.tasks, "the tasks were already imported"
    barrier = threading.Barrier(16)
    failures = []

    def look_up():
        barrier.wait()
        try:
            task("orders.execute_order")
        except Exception as error:
            failures.append(repr(error))

    threads = [threading.Thread(target=look_up) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(len(failures), failures[:1])
    """
)


def test_sixteen_threads_of_a_cold_process_all_find_the_task(tmp_path):
    # Before the lock, 14-15 of the 16 failed with "never registered": the
    # second caller of Celery's loader returned while the first was importing.
    result = subprocess.run(
        [sys.executable, "-c", COLD_PROCESS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
        env={**os.environ, "SIGMATRADER_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "0 []"


def test_the_wsgi_application_imports_the_tasks_before_its_first_request(tmp_path):
    script = (
        "import sigmatrader.wsgi\n"
        "from sigmatrader.celery import app\n"
        "print('orders.execute_order' in app.tasks)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
        env={**os.environ, "SIGMATRADER_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"
