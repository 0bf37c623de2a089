"""Reads on broker accounts, always scoped to the signed-in user."""

from django.shortcuts import get_object_or_404

from .models import BrokerAccount


def accounts_of(user):
    return BrokerAccount.objects.filter(user=user)


def account_for(user, account_id) -> BrokerAccount:
    """The user's account with that id, or 404: another user's id looks absent."""
    return get_object_or_404(BrokerAccount, pk=account_id, user=user)


def default_account(user) -> BrokerAccount | None:
    return accounts_of(user).filter(is_default=True).first()
