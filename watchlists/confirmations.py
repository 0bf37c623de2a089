"""What the trader confirmed is what is sent.

The "Buy now" and "Sell basket" confirmation steps show a plan (each member's
quantity and price). The plan travels in the form as a signed token, and the
confirm sends exactly those legs: it never recomputes them from the form's
fields, which the trader may have changed after the dialog appeared (a funds
of 300000 typed over 30000 once sent ten times what was confirmed), and prices
that moved since then do not change the quantities either. A token older than
MAX_AGE, for another basket or account, or whose terms differ from the form's,
is refused with the reason and the plan is shown again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from django.core import signing

from marketdata.models import Instrument

if TYPE_CHECKING:
    from brokers.models import BrokerAccount

    from .models import Watchlist

MAX_AGE = 300  # seconds: a confirmation is for prices seen moments ago
SALT = "watchlists.basket-plan"
CHANGED = (
    "The basket's settings changed after the confirmation appeared: nothing was sent. "
    "Here is the plan for the new settings; confirm it again."
)


class Terms(Protocol):
    """The order terms a plan was shown with (baskets.Terms)."""

    product: str
    order_type: str
    buffer_pct: Decimal
    amo: bool


class PlanRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _terms(terms: Terms, funds: Decimal | None, mode: str | None) -> list[str]:
    return [
        terms.product,
        terms.order_type,
        str(terms.buffer_pct),
        "amo" if terms.amo else "",
        "" if funds is None else str(funds),
        mode or "",
    ]


def sign(
    *,
    watchlist: Watchlist,
    account: BrokerAccount,
    side: str,
    legs: list[tuple[Instrument, int, Decimal | None]],
    terms: Terms,
    funds: Decimal | None = None,
    mode: str | None = None,
) -> str:
    """A token of the legs shown (instrument, quantity, the price they were sized at)."""
    payload = {
        "w": watchlist.pk,
        "a": account.pk,
        "s": side,
        "t": _terms(terms, funds, mode),
        "l": [[i.pk, q, None if p is None else str(p)] for i, q, p in legs if q > 0],
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def read(
    token: str,
    *,
    watchlist: Watchlist,
    account: BrokerAccount,
    side: str,
    terms: Terms,
    funds: Decimal | None = None,
    mode: str | None = None,
) -> list[tuple[Instrument, int, Decimal | None]]:
    """The confirmed legs, or PlanRefused saying why they cannot be sent."""
    try:
        payload = signing.loads(token or "", salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise PlanRefused(
            f"The confirmation is more than {MAX_AGE // 60} minutes old and prices have moved: "
            "nothing was sent. Here is a fresh plan; confirm it again."
        ) from None
    except signing.BadSignature:
        raise PlanRefused(
            "This confirmation could not be read (it was changed or is from another "
            "session): nothing was sent. Here is a fresh plan; confirm it again."
        ) from None
    if (payload.get("w"), payload.get("a"), payload.get("s")) != (watchlist.pk, account.pk, side):
        raise PlanRefused(CHANGED)
    if payload.get("t") != _terms(terms, funds, mode):
        raise PlanRefused(CHANGED)
    rows = payload.get("l") or []
    instruments = Instrument.objects.in_bulk([pk for pk, _, _ in rows])
    legs = []
    for pk, quantity, price in rows:
        instrument = instruments.get(pk)
        if instrument is None:
            raise PlanRefused(
                "An instrument of the plan is no longer in the broker's list (the "
                "instruments were refreshed): nothing was sent. Here is a fresh plan."
            )
        legs.append((instrument, int(quantity), None if price is None else Decimal(price)))
    return legs
