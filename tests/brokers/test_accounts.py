import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from brokers import accounts, selectors
from brokers.base import Session
from brokers.models import BrokerAccount
from sigmatrader.models import SystemEvent


@pytest.fixture
def new_account(fake_registry, user):
    def make(label="main", owner=None, **credentials):
        return accounts.create_account(
            user=owner or user, broker="fakebroker", label=label, credentials=credentials
        )

    return make


def test_first_account_is_the_default_and_later_ones_are_not(new_account):
    first, second = new_account("main"), new_account("family")
    assert first.is_default and not second.is_default
    assert first.display_name == "Fake Broker · main"


def test_make_default_moves_the_flag(new_account, user):
    first, second = new_account("main"), new_account("family")
    accounts.make_default(account=second)
    assert list(BrokerAccount.objects.filter(is_default=True)) == [second]
    assert selectors.default_account(user) == second
    first.refresh_from_db()
    assert not first.is_default


def test_database_refuses_two_defaults_for_one_user(new_account):
    new_account("main")
    second = new_account("family")
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerAccount.objects.filter(pk=second.pk).update(is_default=True)


def test_deleting_the_default_promotes_another(new_account, user):
    first, second = new_account("main"), new_account("family")
    accounts.delete_account(account=first)
    second.refresh_from_db()
    assert second.is_default


def test_only_declared_stored_fields_are_kept(new_account):
    account = new_account("main", api_key="k1", totp="123456", unknown="x", pin="")
    assert account.credentials == {"api_key": "k1"}  # per-connect TOTP and blanks dropped


def test_blank_fields_keep_the_stored_secret_on_edit(new_account):
    account = new_account("main", api_key="k1", pin="1111")
    accounts.update_credentials(
        account=account, label="renamed", credentials={"api_key": "", "pin": "2222"}
    )
    account.refresh_from_db()
    assert account.credentials == {"api_key": "k1", "pin": "2222"}
    assert account.label == "renamed"


def test_session_lifecycle_records_events_without_tokens(new_account, user):
    account = new_account("main", api_key="k1")
    accounts.store_session(
        account=account,
        session=Session(
            data={"access_token": "tok-abc-123456"}, expires_at=None, broker_user_id="AB12"
        ),
        event="connected",
    )
    account.refresh_from_db()
    assert account.is_connected and account.broker_user_id == "AB12" and account.connected_at
    accounts.mark_expired(account=account, reason="token expired")
    account.refresh_from_db()
    assert account.status == "expired" and account.session == {}
    events = SystemEvent.objects.filter(user=user, category="broker")
    assert any("session expired — reconnect" in e.message for e in events)
    assert "tok-abc-123456" not in str(list(events.values_list("message", "details")))


def test_selector_hides_other_users_accounts(new_account, user, other_user):
    theirs = new_account("main", owner=other_user)
    with pytest.raises(Http404):
        selectors.account_for(user, theirs.pk)
    assert selectors.account_for(other_user, theirs.pk) == theirs
    assert list(selectors.accounts_of(user)) == []
