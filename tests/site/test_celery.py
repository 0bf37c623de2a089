"""A task makes the full trip through the configured transport and result backend:
kombu's filesystem transport locally, Redis when REDIS_URL is set (CI)."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from sigmatrader.celery import app
from sigmatrader.tasks import ping


@pytest.fixture(scope="module")
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def test_task_round_trip_through_the_real_transport(worker):
    result = ping.delay("hello")
    assert result.get(timeout=30) == {"echo": "hello"}
    assert result.successful()


def test_transport_matches_the_environment():
    if settings.REDIS_URL:
        assert app.conf.broker_url.startswith("redis://")
        assert app.conf.result_backend.startswith("redis://")
    else:
        assert app.conf.broker_url == "filesystem://"
        assert app.conf.result_backend.startswith("file://")
