"""Broker credentials and sessions are encrypted at rest, strictly."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from brokers import accounts
from brokers.models import BrokerAccount
from sigmatrader.crypto import UndecryptableSecret, encrypted_fields

OLD_KEY = "old-secret-key-" + "a1B2c3D4e5" * 6
NEW_KEY = "new-secret-key-" + "Z9y8X7w6V5" * 6
PLAINTEXT = {"api_key": "kite-api-key-123", "pin": "4321", "client_code": "AB1234"}


@pytest.fixture
def rekey(settings):
    """Switch the encryption keys mid-test (fields cache their derived keys)."""

    def apply(secret, fallbacks=(), salts=None):
        settings.SECRET_KEY = secret
        settings.SECRET_KEY_FALLBACKS = list(fallbacks)
        if salts is not None:
            settings.SALT_KEY = list(salts)
        for field in encrypted_fields(BrokerAccount):
            field.reset_keys()

    yield apply
    for field in encrypted_fields(BrokerAccount):
        field.reset_keys()


def raw_row(pk):
    table = BrokerAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials, session FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()


@pytest.fixture
def account(fake_registry, user, rekey):
    rekey(OLD_KEY)
    acct = accounts.create_account(
        user=user, broker="fakebroker", label="main", credentials=PLAINTEXT
    )
    acct.session = {"access_token": "sess-token-xyz-789", "expires": "2026-11-25T06:00:00+05:30"}
    acct.save()
    return acct


def test_raw_row_holds_no_plaintext(account):
    credentials, session = raw_row(account.pk)
    raw = credentials + session
    for secret in ["kite-api-key-123", "4321", "AB1234", "sess-token-xyz-789", "api_key", "pin"]:
        assert secret not in raw
    assert credentials.startswith("gAAAA")  # a Fernet token
    fresh = BrokerAccount.objects.get(pk=account.pk)
    assert fresh.credentials == PLAINTEXT
    assert fresh.session["access_token"] == "sess-token-xyz-789"


def test_a_wrong_key_raises_instead_of_returning_ciphertext(account, rekey):
    rekey(NEW_KEY)  # the old key is gone and not a fallback
    # The row loads (lists and jobs go on); any use of the secret raises.
    fresh = BrokerAccount.objects.get(pk=account.pk)
    assert fresh.secrets_unreadable
    with pytest.raises(UndecryptableSecret, match="cannot be decrypted"):
        fresh.credentials.get("api_key")
    with pytest.raises(UndecryptableSecret, match="cannot be decrypted"):
        dict(fresh.session or {})


def test_rotation_keeps_old_rows_readable_then_reencrypts(account, rekey):
    before = raw_row(account.pk)
    rekey(NEW_KEY, fallbacks=[OLD_KEY])
    assert BrokerAccount.objects.get(pk=account.pk).credentials == PLAINTEXT

    call_command("reencrypt_secrets")
    after = raw_row(account.pk)
    assert after[0] != before[0]

    rekey(NEW_KEY)  # retire the old key: the rewritten row still opens
    assert BrokerAccount.objects.get(pk=account.pk).credentials == PLAINTEXT


def test_salt_rotation_works_the_same_way(account, rekey, settings):
    old_salts = list(settings.SALT_KEY)
    rekey(OLD_KEY, salts=["sigmatrader.brokers.v2", *old_salts])
    call_command("reencrypt_secrets")
    rekey(OLD_KEY, salts=["sigmatrader.brokers.v2"])
    assert BrokerAccount.objects.get(pk=account.pk).session["access_token"] == "sess-token-xyz-789"


def test_reencrypt_reports_rows_it_cannot_open_and_leaves_them(account, rekey):
    before = raw_row(account.pk)
    rekey(NEW_KEY)
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("reencrypt_secrets")
    assert raw_row(account.pk) == before


def test_serializers_get_ciphertext(account):
    from django.core import serializers

    dumped = serializers.serialize("json", BrokerAccount.objects.filter(pk=account.pk))
    assert "kite-api-key-123" not in dumped and "sess-token-xyz-789" not in dumped
    restored = next(serializers.deserialize("json", dumped)).object
    assert restored.credentials == PLAINTEXT
    assert json.loads(dumped)[0]["fields"]["credentials"].startswith("gAAAA")
