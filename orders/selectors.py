"""Reads behind the Queue, Orders and Alerts pages, always scoped to the signed-in user
(the shape of sigmatrader.selectors: keyword arguments, a queryset or a page back)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from sigmatrader.params import object_id

from .models import Order, WebhookAlert

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from brokers.models import BrokerAccount

QUEUE_STATUSES = (Order.Status.WAITING, Order.Status.FAILED)


def order_for(user: User, order_id: object) -> Order:
    """The user's order, or 404: another user's order looks absent."""
    pk = object_id(order_id)
    if pk is None:
        raise Http404("No such order.")
    orders = Order.objects.select_related("account", "instrument")
    return get_object_or_404(orders, pk=pk, user=user)


def queue_orders(*, user: User, account: BrokerAccount | None = None) -> QuerySet[Order]:
    """The user's waiting and failed orders, oldest first; one account's, or (None) all."""
    # Not the account: a row shows its stored account_name, and each joined copy of the
    # account would decrypt its stored secrets again (two Fernet decrypts per row).
    orders = (
        Order.objects.filter(user=user, status__in=QUEUE_STATUSES)
        .select_related("instrument", "exit_plan")
        .order_by("created_at", "id")
    )
    return orders.filter(account=account) if account is not None else orders


def waiting_elsewhere(*, user: User, account: BrokerAccount) -> list[dict]:
    """The user's other accounts with orders in the queue, and how many: what an empty
    view of `account` points to (name and count, no decrypting join)."""
    from django.db.models import Count

    found = (
        Order.objects.filter(user=user, status__in=QUEUE_STATUSES)
        .exclude(account=account)
        .exclude(account__isnull=True)
        .values("account_id", "account_name")
        .annotate(count=Count("id"))
        .order_by("account_name")
    )
    merged: dict[int, dict] = {}
    for row in found:  # one line per account, under its latest stored name
        seen = merged.setdefault(
            row["account_id"], {"pk": row["account_id"], "name": row["account_name"], "count": 0}
        )
        seen["count"] += row["count"]
    return list(merged.values())


def queue_page(
    *,
    user: User,
    account: BrokerAccount | None = None,
    page: str | int | None = None,
    per_page: int | None = None,
) -> Page:
    """One page of the queue; its rows loaded, and `querystring` keeps the page on the
    account it shows (or on every account, with `scope=all`)."""
    found = Paginator(
        queue_orders(user=user, account=account), per_page or settings.QUEUE_PAGE_SIZE
    ).get_page(page)
    # Read by the pager template (sigmatrader.pages.paginate sets it the same way).
    found.querystring = "scope=all" if account is None else f"account={account.pk}"  # type: ignore[attr-defined]
    found.object_list = list(found.object_list)
    return found


def order_list(
    *,
    user: User,
    status: str = "",
    account_id: int | None = None,
    source: str = "",
    day: datetime.date | None = None,
) -> QuerySet[Order]:
    """The Orders page: the user's orders, newest first, narrowed by what is given."""
    orders = (
        Order.objects.filter(user=user)
        .select_related("exit_plan", "protects")
        .prefetch_related("exit_legs")
        .order_by("-created_at", "-id")
    )
    if status:
        orders = orders.filter(status=status)
    if account_id is not None:
        orders = orders.filter(account_id=account_id)
    if source:
        orders = orders.filter(source=source)
    if day:
        orders = orders.filter(created_at__date=day)
    return orders


def alert_list(*, user: User, outcome: str = "") -> QuerySet[WebhookAlert]:
    """The Alerts page: the user's webhook alerts (newest first, the model's order)."""
    alerts = WebhookAlert.objects.filter(user=user).select_related("strategy", "order")
    if outcome:
        alerts = alerts.filter(outcome=outcome)
    return alerts
