"""The paper adapter's form hooks keep their contract ("never raises") when the
user has an account of a broker since removed from SIGMATRADER_BROKERS."""

from brokers.models import BrokerAccount
from paper.adapter import PaperAdapter


def test_a_price_source_of_a_removed_broker_is_a_form_problem_not_a_crash(db, user):
    BrokerAccount.objects.create(user=user, broker="removedbroker", label="old")
    problems = PaperAdapter.check_credentials(
        {"starting_cash": "100000", "price_source": "old"}, user=user
    )
    assert "None of your live accounts is labelled 'old'" in problems["price_source"]
    assert PaperAdapter.credential_choices("price_source", user=user) == []
