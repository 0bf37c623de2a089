"""The webhook's shared `secret` never lands in the stored body (item 7 of issue 13)."""

import importlib
import json

import pytest
from django.apps import apps

from orders import webhook
from orders.models import WebhookAlert
from sigmatrader.redaction import mask_json_text
from tests.orders.test_order_lifecycle import trading  # noqa: F401 (the fixture)
from tests.orders.test_webhook import (  # noqa: F401 (fixtures)
    alert,
    eager,  # noqa: F401 (the fixture)
    hook,
    post,
)

SECRET = "s3cret-phrase-77"


def test_secret_is_masked_in_every_stored_body(client, hook):  # noqa: F811
    account, _, token, _ = hook
    webhook.set_secret(account.user, SECRET)
    assert post(client, token, alert(secret=SECRET))[0] == 202
    assert post(client, token, alert(secret=SECRET + "x"))[0] == 403
    assert post(client, "y" * 43, alert(secret=SECRET))[0] == 404
    # A body cut short by the stored-length limit, or not JSON at all.
    cut = json.dumps(alert(secret=SECRET))[:-2]
    post(client, token, cut)
    bodies = list(WebhookAlert.objects.values_list("raw_body", flat=True))
    assert len(bodies) == 4
    assert all(SECRET not in body for body in bodies), bodies
    accepted = WebhookAlert.objects.get(http_status=202)
    stored = json.loads(accepted.raw_body)
    assert stored["secret"] == "[redacted]" and stored["symbol"] == "NSE:SBIN"


def test_migration_masks_bodies_stored_before(db):
    plain = WebhookAlert.objects.create(
        raw_body=json.dumps({"symbol": "X", "secret": SECRET}), outcome="accepted", http_status=202
    )
    other = WebhookAlert.objects.create(
        raw_body='{"symbol": "Y"}', outcome="accepted", http_status=202
    )
    migration = importlib.import_module("orders.migrations.0006_mask_webhook_body_secrets")
    migration.mask_bodies(apps, None)
    plain.refresh_from_db()
    other.refresh_from_db()
    assert SECRET not in plain.raw_body and json.loads(plain.raw_body)["symbol"] == "X"
    assert other.raw_body == '{"symbol": "Y"}'


@pytest.mark.parametrize(
    "body",
    [
        '{"secret": "TOPSECRET"}',
        '{"secret": ["TOPSECRET"]}',
        '{"secret": {"v": "TOPSECRET"}}',
        '{"trade_details": {"secret": "TOPSECRET", "quantity": 2}}',
        '{"list": [{"secret": "TOPSECRET"}]}',
        '{"symbol": "X", "secret": "TOPSEC',
        '{"secret" : 12345678}',
    ],
)
def test_masking_reaches_secret_members_in_any_shape(body):
    assert "TOPSEC" not in mask_json_text(body) and "12345678" not in mask_json_text(body)
