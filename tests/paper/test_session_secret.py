"""The paper book stores only a hash of the session token (issue 13, item 8)."""

import importlib

import pytest
from django.apps import apps

from brokers import accounts, connections
from brokers.base import AuthExpired
from paper import engine
from paper.models import PaperBook


@pytest.fixture
def paper_account(user):
    account = accounts.create_account(
        user=user, broker="paper", label="paper", credentials={"starting_cash": "100000"}
    )
    connections.connect_with_credentials(account=account, per_connect={})
    account.refresh_from_db()
    return account


def test_the_book_row_never_holds_the_session_token(paper_account):
    token = paper_account.session["token"]
    book = PaperBook.objects.get(account=paper_account)
    row = " ".join(str(v) for v in PaperBook.objects.filter(pk=book.pk).values().get().values())
    assert token not in row
    # The session still works, and a wrong token does not.
    with connections.calling(paper_account) as adapter:
        assert adapter.funds() is not None
    engine.check_session(book, token)
    with pytest.raises(AuthExpired):
        engine.check_session(book, "not-the-token")


def test_migration_hashes_tokens_stored_in_clear(paper_account):
    book = PaperBook.objects.get(account=paper_account)
    PaperBook.objects.filter(pk=book.pk).update(session_token_hash="clear-token-123")
    migration = importlib.import_module("paper.migrations.0003_session_token_hash")
    migration.hash_tokens(apps, None)
    book.refresh_from_db()
    assert book.session_token_hash != "clear-token-123"
    engine.check_session(book, "clear-token-123")  # still the same session
