import json

from django.urls import reverse

from sigmatrader import health


def test_healthz_reports_database_and_queue_without_login(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "task_queue": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_without_details_when_a_check_fails(client, db, monkeypatch):
    monkeypatch.setattr(health, "task_queue_ok", lambda: False)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {"status": "unavailable", "database": "ok", "task_queue": "unavailable"}


def test_task_queue_check_fails_on_an_unreachable_broker(settings):
    """A real connection attempt to a closed port: the check says False, it does not raise."""
    from sigmatrader.celery import app

    old = app.conf.broker_url, app.conf.broker_transport
    # A Redis broker that is down (the embedded default names its own transport).
    app.conf.broker_url, app.conf.broker_transport = "redis://127.0.0.1:1/0", None
    try:
        assert health.task_queue_ok() is False
    finally:
        app.conf.broker_url, app.conf.broker_transport = old
