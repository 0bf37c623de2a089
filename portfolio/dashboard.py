"""The dashboard's figures, per account and overall, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from brokers import registry
from brokers import selectors as broker_selectors
from brokers.base import BrokerError, ConnectFlow
from brokers.connections import calling
from marketdata import live
from marketdata.models import Instrument
from orders.models import Order

from .models import Holding, Position
from .selectors import sync_states

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=24, decimal_places=4)


def _times(a, b):
    return Sum(ExpressionWrapper(F(a) * F(b), output_field=MONEY))


@dataclass
class AccountFigures:
    account: object
    sync: object = None
    invested: Decimal = ZERO
    holdings_value: Decimal = ZERO
    holdings_day_pnl: Decimal = ZERO
    positions_m2m: Decimal = ZERO
    holdings_count: int = 0
    open_positions: int = 0
    open_orders: int = 0
    waiting: int = 0
    rejected_today: int = 0

    @property
    def day_pnl(self) -> Decimal:
        # Day P&L = holdings' day change × the quantity held overnight (delivered
        # and T1: bought on an earlier day) + positions' M2M (today's trades,
        # delivery ones included). Each share's day move is counted once because
        # brokers keep today's delivery buys out of holdings (they are positions
        # until settlement) and keep today's sales in them (the sale is a
        # negative delivery position whose M2M books the move from the close).
        return self.holdings_day_pnl + self.positions_m2m

    @property
    def pnl(self) -> Decimal:
        return self.holdings_value - self.invested

    local_cash: Decimal | None = None  # an account whose funds need no broker call (paper)

    @property
    def simulated(self) -> bool:
        """Paper money (a simulated account, capabilities.resettable): never added to real."""
        try:
            return self.account.adapter_class.capabilities.resettable
        except registry.UnknownBroker:  # its broker was removed from settings
            return False

    @property
    def available_cash(self):
        if self.local_cash is not None:
            return self.local_cash
        return self.sync.available_cash if self.sync else None


@dataclass
class Dashboard:
    accounts: list[AccountFigures] = field(default_factory=list)

    @property
    def counted(self) -> list[AccountFigures]:
        """What "All accounts" adds up: the real accounts; paper money is shown apart
        (as cash and the daily loss limits do). A user with only paper sees paper."""
        real = [a for a in self.accounts if not a.simulated]
        return real or self.accounts

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(a, name) for a in self.counted), ZERO)

    @property
    def paper_apart(self) -> list[AccountFigures]:
        """Paper accounts beside real ones: their figures are shown apart, never added."""
        return [a for a in self.accounts if a.simulated] if self.has_real else []

    def _paper(self, name: str) -> Decimal | None:
        paper = self.paper_apart
        return sum((getattr(a, name) for a in paper), ZERO) if paper else None

    @property
    def paper_holdings_value(self):
        return self._paper("holdings_value")

    @property
    def paper_day_pnl(self):
        return self._paper("day_pnl")

    @property
    def paper_pnl(self):
        return self._paper("pnl")

    @property
    def holdings_value(self):
        return self._sum("holdings_value")

    @property
    def invested(self):
        return self._sum("invested")

    @property
    def day_pnl(self):
        return self._sum("day_pnl")

    @property
    def pnl(self):
        return self._sum("pnl")

    def _cash(self, simulated: bool):
        known = [
            a.available_cash
            for a in self.accounts
            if a.available_cash is not None and a.simulated == simulated
        ]
        return sum(known, ZERO) if known else None

    @property
    def available_cash(self):
        """Real money only: paper cash is shown apart (paper_cash), never added to it."""
        return self._cash(simulated=False)

    @property
    def paper_cash(self):
        return self._cash(simulated=True)

    @property
    def has_real(self) -> bool:
        return any(not a.simulated for a in self.accounts)

    @property
    def open_orders(self):
        return sum(a.open_orders for a in self.accounts)

    @property
    def waiting(self):
        return sum(a.waiting for a in self.accounts)

    @property
    def rejected_today(self):
        return sum(a.rejected_today for a in self.accounts)


def dashboard_for(user) -> Dashboard:
    account_list = list(broker_selectors.accounts_of(user).order_by("-is_default", "label"))
    states = sync_states(account_list)
    figures = {a.pk: AccountFigures(account=a, sync=states.get(a.pk)) for a in account_list}
    holdings = (
        Holding.objects.filter(account__user=user)
        .values("account")
        .annotate(
            invested=_times("average_price", "quantity"),
            value=_times("last_price", "quantity"),
            day=_times("day_change", "quantity"),
            count=Count("id"),
        )
    )
    for row in holdings:
        tile = figures[row["account"]]
        tile.invested, tile.holdings_value = row["invested"] or ZERO, row["value"] or ZERO
        tile.holdings_day_pnl, tile.holdings_count = row["day"] or ZERO, row["count"]
    positions = (
        Position.objects.filter(account__user=user)
        .values("account")
        .annotate(m2m=Sum("m2m"), open=Count("id", filter=~Q(quantity=0)))
    )
    for row in positions:
        tile = figures[row["account"]]
        tile.positions_m2m, tile.open_positions = row["m2m"] or ZERO, row["open"]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    failed = (Order.Status.REJECTED, Order.Status.FAILED)
    orders = (
        # Only the orders these counts can see (by the status index), not the history.
        Order.objects.filter(user=user, account__isnull=False)
        .filter(
            Q(status__in=(*Order.LIVE, Order.Status.WAITING))
            | Q(status__in=failed, updated_at__gte=today)
        )
        .values("account")
        .annotate(
            open=Count("id", filter=Q(status__in=Order.LIVE)),
            waiting=Count("id", filter=Q(status=Order.Status.WAITING)),
            rejected=Count(
                "id",
                filter=Q(status__in=failed, updated_at__gte=today),
            ),
        )
    )
    for row in orders:
        tile = figures.get(row["account"])
        if tile:
            tile.open_orders, tile.waiting = row["open"], row["waiting"]
            tile.rejected_today = row["rejected"]
    _local_cash(figures)
    _live_prices(user, figures)
    return Dashboard(accounts=list(figures.values()))


def _local_cash(figures: dict) -> None:
    """Funds of accounts that keep them here (paper): read now, as Settings does, rather
    than "—" until the first portfolio sync. No broker is called."""
    for tile in figures.values():
        account = tile.account
        if account.adapter_class.connect_flow is not ConnectFlow.NONE:
            continue
        try:
            with calling(account) as adapter:
                tile.local_cash = adapter.funds().available_cash
        except BrokerError:
            continue


def _live_prices(user, figures: dict) -> None:
    """Move holdings' value and day P&L, and positions' M2M, to the live cache's prices
    (the cache only: a dashboard poll never calls a broker)."""
    fields = ("account_id", "instrument_id", "quantity", "last_price")
    holdings = list(
        Holding.objects.filter(account__user=user, instrument__isnull=False).values_list(
            *fields, "close_price", "day_change"
        )
    )
    positions = list(
        Position.objects.filter(account__user=user, instrument__isnull=False).values_list(*fields)
    )
    # Plain rows, not model instances: a dashboard poll reads every holding (thousands).
    wanted = {row[1] for row in holdings} | {row[1] for row in positions}
    instruments = Instrument.objects.filter(pk__in=wanted).only("broker", "exchange", "token")
    prices = live.cached(instruments)
    for account_id, instrument_id, quantity, last_price, close_price, day_change in holdings:
        found, tile = prices.get(instrument_id), figures.get(account_id)
        if found is None or tile is None:
            continue
        tile.holdings_value += (found.price - last_price) * quantity
        close = close_price or found.close
        if close:
            before = (day_change or ZERO) * quantity
            tile.holdings_day_pnl += (found.price - close) * quantity - before
    for account_id, instrument_id, quantity, last_price in positions:
        found, tile = prices.get(instrument_id), figures.get(account_id)
        if found is not None and tile is not None:
            tile.positions_m2m += (found.price - last_price) * quantity
