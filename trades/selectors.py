"""Reads on trades and round trips, always scoped to the signed-in user."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from django.db.models import QuerySet

from brokers.models import BrokerAccount

from .capture import missed_days
from .matching import financial_year, fy_label
from .models import Adjustment, OpeningLot, RoundTrip, Trade, UnmatchedSale

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def fy_bounds(year: int) -> tuple[date, date]:
    return date(year, 4, 1), date(year + 1, 3, 31)


def trades_of(
    *,
    user: User,
    account: BrokerAccount | None = None,
    fy: int | None = None,
    deleted: int | None = None,
) -> QuerySet[Trade]:
    rows = Trade.objects.filter(user=user)
    rows = _of_account(rows, account=account, deleted=deleted)
    if fy is not None:
        start, end = fy_bounds(fy)
        rows = rows.filter(trade_date__range=(start, end))
    return rows.select_related("order", "order__strategy").order_by("-traded_at", "-pk")


def _of_account(rows: QuerySet, *, account: BrokerAccount | None, deleted: int | None):
    """One live account's rows, or a deleted account's (by the id it had), or all."""
    if account is not None:
        return rows.filter(account=account)
    if deleted is not None:
        return rows.filter(account__isnull=True, account_ref=deleted)
    return rows


def round_trips_of(
    *,
    user: User,
    account: BrokerAccount | None = None,
    fy: int | None = None,
    deleted: int | None = None,
) -> QuerySet[RoundTrip]:
    rows = RoundTrip.objects.filter(user=user)
    rows = _of_account(rows, account=account, deleted=deleted)
    if fy is not None:
        rows = rows.filter(financial_year=fy)
    return rows.order_by("closed_at", "seq")


def unmatched_sales_of(
    *,
    user: User,
    account: BrokerAccount | None = None,
    fy: int | None = None,
    deleted: int | None = None,
) -> QuerySet[UnmatchedSale]:
    rows = UnmatchedSale.objects.filter(user=user)
    rows = _of_account(rows, account=account, deleted=deleted)
    if fy is not None:
        rows = rows.filter(financial_year=fy)
    return rows.order_by("sold_at", "pk")


class Result(NamedTuple):
    """What the summaries read of a round trip (no model instance per row)."""

    net: Decimal
    gross: Decimal
    charges_estimate: Decimal
    classification: str
    strategy: str


def results_of(rows: QuerySet[RoundTrip]) -> list[Result]:
    """The rows' results, in the queryset's order (close time for the drawdown)."""
    return [
        Result(*values)
        for values in rows.values_list(
            "net", "gross", "charges_estimate", "classification", "strategy"
        ).iterator(chunk_size=5000)
    ]


def deleted_accounts(*, user: User) -> list[tuple[int, str]]:
    """(account id, name) of the user's deleted accounts whose trade history is kept."""
    return sorted(
        set(
            Trade.objects.filter(user=user, account__isnull=True, account_ref__isnull=False)
            .order_by()
            .values_list("account_ref", "account_name")
            .distinct()
        ),
        key=lambda pair: (pair[1].lower(), pair[0]),
    )


def financial_years(*, user: User) -> list[tuple[int, str]]:
    """The financial years the user has fills or round trips in, newest first."""
    years = set(
        RoundTrip.objects.filter(user=user).values_list("financial_year", flat=True).distinct()
    )
    dates = Trade.objects.filter(user=user).dates("trade_date", "month")
    years.update(financial_year(d) for d in dates)
    return [(y, fy_label(y)) for y in sorted(years, reverse=True)]


def missed_by_account(*, user: User, account: BrokerAccount | None = None) -> list[tuple]:
    """(account, missed trading days) for each of the user's accounts that missed any."""
    accounts = BrokerAccount.objects.filter(user=user).order_by("label")
    if account is not None:
        accounts = accounts.filter(pk=account.pk)
    found = []
    for acc in accounts:
        days = missed_days(acc)
        if days:
            found.append((acc, days))
    return found


def adjustments_of(*, user: User) -> QuerySet[Adjustment]:
    return Adjustment.objects.filter(user=user).order_by("-ex_date", "-pk")


def opening_lots_of(*, user: User) -> QuerySet[OpeningLot]:
    return OpeningLot.objects.filter(user=user).select_related("account").order_by("symbol", "pk")
