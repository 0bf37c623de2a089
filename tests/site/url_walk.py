"""Every URL pattern of the project, with the signed-in user's own objects filled in.

Used by the no-5xx crawl (test_every_url.py) and the "a GET changes nothing"
audit. The walk reads the URL resolver, so a new view is covered without being
listed here; a new kind of URL parameter fails loudly until it is given ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

# Django's own admin is walked by nobody here: it is Django's, staff-only, and
# answers garbage filters itself (its ?e=1 redirect).
SKIPPED_NAMESPACES = {"admin"}
HUGE_ID_MARK = 987_654_321_987  # reversed, then swapped for a 26-digit id no converter takes


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str  # the regex route, for messages
    callback: object
    params: tuple[str, ...]  # keyword arguments the URL needs, in order
    converters: dict


def _join(prefix: str, pattern) -> str:
    return prefix + str(pattern.pattern)


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix="", namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED_NAMESPACES:
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, _join(prefix, entry), ns)
            elif isinstance(entry, URLPattern) and entry.name:
                converters = {**getattr(entry.pattern, "converters", {})}
                found.append(
                    Route(
                        name=f"{namespace}{entry.name}",
                        pattern=_join(prefix, entry),
                        callback=entry.callback,
                        params=tuple(converters),
                        converters=converters,
                    )
                )

    walk(get_resolver().url_patterns)
    return found


def owned_objects(user, emulator, trading_accounts):
    """Every kind of object a URL can name, owned by `user`: {parameter: [values]}."""
    from brokers import accounts
    from brokers import connections as broker_connections
    from brokers.registry import all_adapters
    from orders import webhook
    from orders.execution import execute
    from orders.models import Strategy, WebhookAlert
    from portfolio.models import Holding, PortfolioSnapshot, Position
    from tests.orders.test_order_lifecycle import new

    zerodha, angelone = trading_accounts
    paper = accounts.create_account(
        user=user,
        broker="paper",
        label="paper",
        credentials={"starting_cash": "500000", "price_source": angelone.label},
    )
    broker_connections.connect_with_credentials(account=paper, per_connect={})
    waiting = new(zerodha)
    sent = execute(order=new(angelone, "INFY"), actor="alice")
    strategy = Strategy.objects.create(user=user, name="Breakout", mode="MANUAL")
    token = webhook.issue_token(user)
    now = timezone.now()
    common = dict(
        account=zerodha,
        exchange="NSE",
        broker_symbol="SBIN",
        symbol="SBIN",
        quantity=3,
        average_price=Decimal("800"),
        last_price=Decimal("810"),
        pnl=Decimal("30"),
    )
    Holding.objects.create(**common)
    position = Position.objects.create(product="MIS", **common)
    PortfolioSnapshot.objects.create(
        account=zerodha,
        date=now.date(),
        invested=Decimal("2400"),
        current_value=Decimal("2430"),
        pnl=Decimal("30"),
        day_pnl=Decimal("0"),
    )
    # Every shape a stored alert can have (a rejected body stores parsed={}; a
    # JSONField can hold anything): the Alerts page must render them all.
    for parsed in (
        {},
        [],
        "text",
        {"strategy_name": None, "symbol": ["x"], "action": {"a": 1}, "quantity": "lots"},
        {"strategy_name": "Breakout", "symbol": "NSE:SBIN", "action": "BUY", "quantity": 1},
    ):
        WebhookAlert.objects.create(
            user=user,
            parsed=parsed,
            raw_body="\ufffd not json",
            outcome=WebhookAlert.Outcome.REJECTED,
            http_status=400,
            reason="The body is not JSON.",
        )
    from watchlists.models import Member, Watchlist

    basket = Watchlist.objects.create(user=user, name="Basket", kind="BASKET", funds=10000)
    member = Member.objects.create(watchlist=basket, exchange="NSE", symbol="SBIN", weight=50)
    rule_id, run_id = _alert_objects(user, zerodha)
    from marketdata.clock import trading_day
    from orders.models import TradingHalt
    from protection.models import LossLimit

    limit = LossLimit.objects.create(user=user, account=zerodha, max_loss=Decimal("500"))
    halt = TradingHalt.objects.create(
        user=user, account=zerodha, trading_day=trading_day(), reason="kill_switch"
    )
    from datetime import date

    from trades.models import Adjustment, OpeningLot, PendingImport

    pending = PendingImport.objects.create(user=user, account=zerodha, text="tradingsymbol\n")
    lot = OpeningLot.objects.create(
        user=user,
        account=zerodha,
        exchange="NSE",
        symbol="SBIN",
        quantity=5,
        average_price=Decimal("700"),
        as_of=date(2026, 4, 1),
    )
    adjustment = Adjustment.objects.create(
        user=user, symbol="SBIN", kind="split", ex_date=date(2025, 6, 2), old=1, new=2
    )
    return {
        "pending_id": [pending.pk],
        "lot_id": [lot.pk],
        "adjustment_id": [adjustment.pk],
        "limit_id": [limit.pk],
        "halt_id": [halt.pk],
        "rule_id": rule_id,
        "run_id": run_id,
        "watchlist_id": [basket.pk],
        "member_id": [member.pk],
        "fmt": ["csv", "txt", "nonsense"],
        "account_id": [zerodha.pk, angelone.pk, paper.pk],
        "order_id": [waiting.pk, sent.pk],
        "strategy_id": [strategy.pk],
        "position_id": [position.pk],
        "broker": [adapter.name for adapter in all_adapters()],
        "token": [token],
        "kind": ["holdings", "positions", "nonsense"],
        "channel": ["email", "telegram", "nonsense"],
    }


def _alert_objects(user, account) -> tuple[list[int], list[int]]:
    """Alert rules (one with an event, one broken) and screener runs in every state."""
    from alerts.models import AlertEvent, AlertRule, ScreenerRun

    fine = AlertRule.objects.create(
        user=user,
        name="Above 100",
        symbol="NSE:SBIN",
        expression="close > 100",
        action="queue",
        action_account=account,
        side="SELL",
        sizing="pct",
        size=Decimal("50"),
    )
    broken = AlertRule.objects.create(
        user=user, name="Broken", target="watchlist", watchlist_id=9, expression="close >"
    )
    AlertEvent.objects.create(
        rule=fine, user=user, symbol="NSE:SBIN", values={"close": 101, "x": [1]}, message="m"
    )
    runs = [
        ScreenerRun.objects.create(
            user=user,
            universe="segment",
            segment="NSE",
            expression="close > 1",
            status=status,
            results=results,
        )
        for status, results in (
            ("queued", []),
            ("done", [{"symbol": "NSE:SBIN", "values": {"close": 2, "odd": "x"}}, {}]),
            ("failed", "not a list"),
        )
    ]
    return [fine.pk, broken.pk], [run.pk for run in runs]


def urls(objects) -> list[tuple[Route, str]]:
    """(route, url) for every route and every owned object it can name."""
    from django.urls import reverse

    result = []
    # An id no database can hold, in every id slot: the URL must 404, never overflow.
    objects = {**objects}
    for name in (
        "account_id",
        "order_id",
        "strategy_id",
        "position_id",
        "watchlist_id",
        "rule_id",
        "run_id",
        "limit_id",
        "halt_id",
        "pending_id",
        "lot_id",
        "adjustment_id",
    ):
        objects[name] = [*objects[name], HUGE_ID_MARK]
    for route in routes():
        missing = [p for p in route.params if p not in objects]
        assert not missing, f"{route.pattern}: give tests/site/url_walk.py ids for {missing}"
        combos = [{}]
        for param in route.params:
            combos = [{**c, param: value} for c in combos for value in objects[param]]
        for kwargs in combos:
            url = reverse(route.name, kwargs=kwargs)
            result.append((route, url.replace(str(HUGE_ID_MARK), "9" * 26)))
    return result
