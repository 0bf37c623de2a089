"""History outlives an account. When a broker account is deleted its fills, opening
lots and round trips stay (their `account` becomes NULL, the name stays in
`account_name`). Before that happens, each fill and opening lot is stamped with the
account's id (`account_ref`), so a later rebuild of the matching keeps every
deleted account's fills a book of their own, closing against its own opening lots,
instead of pouring every deleted account into one book. Round trips and unmatched
sales keep it too: the Trades and P&L pages offer the deleted account (by name) in
their account filter."""

from __future__ import annotations

from .models import OpeningLot, RoundTrip, Trade, UnmatchedSale


def on_account_deleting(sender, instance, **kwargs) -> None:
    """pre_delete of BrokerAccount: runs in the deletion's transaction, before the
    rows' `account` is set to NULL."""
    for model in (Trade, OpeningLot, RoundTrip, UnmatchedSale):
        model.objects.filter(account_id=instance.pk).update(account_ref=instance.pk)


def book_account(account_id: int | None, account_ref: int | None) -> int | None:
    """The account a row's book belongs to: the live account, or the deleted one."""
    return account_id if account_id is not None else account_ref
