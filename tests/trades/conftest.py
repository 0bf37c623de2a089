import pytest


@pytest.fixture
def account(user):
    """An account row of the user (no broker is called by these tests)."""
    from brokers import accounts

    return accounts.create_account(
        user=user, broker="paper", label="book", credentials={"starting_cash": "100000"}
    )


@pytest.fixture
def other_account(other_user):
    from brokers import accounts

    return accounts.create_account(
        user=other_user, broker="paper", label="theirs", credentials={"starting_cash": "100000"}
    )
