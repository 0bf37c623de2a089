"""A rule's watchlist target: the user's own list, every member once, in list order;
a missing or empty list says why and never fires."""

import pytest

from alerts.forms import AlertRuleForm
from alerts.targets import TargetUnavailable, watchlist_items
from watchlists.services import create_list_of_symbols

pytestmark = pytest.mark.django_db


def test_a_watchlist_target_is_its_members_in_order(user, other_user):
    mine = create_list_of_symbols(
        user=user, name="Banks", symbols=[("NSE", "HDFCBANK"), ("BSE", "SBIN"), ("NSE", "HDFCBANK")]
    )
    assert [i.key for i in watchlist_items(user=user, watchlist_id=mine.pk)] == [
        "NSE:HDFCBANK",
        "BSE:SBIN",
    ]
    with pytest.raises(TargetUnavailable, match="no longer exists"):
        watchlist_items(user=other_user, watchlist_id=mine.pk)  # another user's list
    with pytest.raises(TargetUnavailable, match="No watchlist"):
        watchlist_items(user=user, watchlist_id=None)


def test_the_rule_form_offers_only_the_users_own_lists(user, other_user):
    mine = create_list_of_symbols(user=user, name="Mine", symbols=[("NSE", "SBIN")])
    theirs = create_list_of_symbols(user=other_user, name="Theirs", symbols=[("NSE", "SBIN")])
    choices = dict(AlertRuleForm(user=user).fields["watchlist_id"].choices)
    assert mine.pk in choices and theirs.pk not in choices
    form = AlertRuleForm({"target": "watchlist", "watchlist_id": str(theirs.pk)}, user=user)
    form.is_valid()
    assert "watchlist_id" in form.errors


def test_removing_an_account_disables_its_rules_and_says_why(user):
    from alerts.models import AlertRule
    from brokers import accounts

    account = accounts.create_account(
        user=user, broker="paper", label="gone", credentials={"starting_cash": "100000"}
    )
    kept = AlertRule.objects.create(
        user=user,
        name="holdings",
        target="holdings",
        holdings_account=account,
        expression="close > 1",
    )
    account.delete()
    kept.refresh_from_db()  # still there, not deleted with the account
    assert not kept.enabled and not kept.status_ok
    assert "gone" in kept.status_message and "was removed" in kept.status_message
