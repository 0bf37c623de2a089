"""Shared set-up of the in-process benchmarks: Django on a throwaway database.

SQLite by default (a file in a temporary folder); with DATABASE_URL, a test
database on that PostgreSQL server, dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def throwaway_django(prefix: str, *, web: bool = False, env: dict | None = None):
    """Set up Django on a fresh database; yields (settings, work folder).

    `web`: settings for driving views with Django's test client; `env`: more
    environment for the settings (e.g. MARKET_ALWAYS_OPEN).
    """
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sigmatrader.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["SIGMATRADER_VAR_DIR"] = str(work / "var")
    os.environ["SIGMATRADER_ENV_FILE"] = str(work / "no.env")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.update(env or {})
    if web:
        os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test client speaks plain HTTP
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(work / "bench.sqlite3")
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    if web:
        settings.ALLOWED_HOSTS = ["testserver"]
        # No collectstatic here: plain static storage instead of the production manifest.
        settings.STORAGES["staticfiles"]["BACKEND"] = (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    try:
        yield settings, work
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
