"""The suite really runs on the services the environment names (PostgreSQL and
Redis in CI), not on a silent embedded fallback."""

import os
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection

IN_CI = bool(os.environ.get("CI"))


def test_ci_names_postgresql_and_redis():
    if IN_CI:
        assert os.environ.get("DATABASE_URL", "").startswith("postgres"), "CI must use PostgreSQL"
        assert os.environ.get("REDIS_URL", "").startswith("redis://"), "CI must use Redis"


def test_database_in_use_is_the_configured_one(db):
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected
    if expected == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_cache_in_use_is_the_configured_one():
    cache = caches["default"]
    if settings.REDIS_URL:
        from django.core.cache.backends.redis import RedisCache

        assert isinstance(cache, RedisCache)
        client = cache._cache.get_client()
        assert client.ping() is True
    key, value = f"ci-probe-{uuid.uuid4()}", uuid.uuid4().hex
    cache.set(key, value, 30)
    assert cache.get(key) == value
    cache.delete(key)
