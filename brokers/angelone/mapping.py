"""SmartAPI's vocabulary mapped to SigmaTrader's: products, order types, intervals,
statuses and error codes."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ..base import (
    OrderStatus,
    OrderType,
    Product,
)

logger = logging.getLogger(__name__)


IST = ZoneInfo("Asia/Kolkata")

PRODUCTS = {
    "DELIVERY": Product.CNC,
    "INTRADAY": Product.MIS,
    "CARRYFORWARD": Product.NRML,
    "MARGIN": Product.NRML,
    "BO": Product.MIS,
}
PRODUCT_NAMES = {Product.CNC: "DELIVERY", Product.MIS: "INTRADAY", Product.NRML: "CARRYFORWARD"}
ORDER_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOPLOSS_LIMIT": OrderType.SL,
    "STOPLOSS_MARKET": OrderType.SL_M,
}
ORDER_TYPE_NAMES = {v: k for k, v in ORDER_TYPES.items()}

INTERVALS = {
    "1m": "ONE_MINUTE",
    "3m": "THREE_MINUTE",
    "5m": "FIVE_MINUTE",
    "10m": "TEN_MINUTE",
    "15m": "FIFTEEN_MINUTE",
    "30m": "THIRTY_MINUTE",
    "1h": "ONE_HOUR",
    "1d": "ONE_DAY",
}

# Every order status SmartAPI documents (lower-case in its order book).
STATUSES = {
    "open": OrderStatus.OPEN,
    "complete": OrderStatus.EXECUTED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "trigger pending": OrderStatus.TRIGGER_PENDING,
    "open pending": OrderStatus.PENDING,
    "validation pending": OrderStatus.PENDING,
    "put order req received": OrderStatus.PENDING,
    "after market order req received": OrderStatus.PENDING,
    "modify validation pending": OrderStatus.OPEN,
    "modify pending": OrderStatus.OPEN,
    "modified": OrderStatus.OPEN,
    "not modified": OrderStatus.OPEN,
    "cancel pending": OrderStatus.OPEN,
    "not cancelled": OrderStatus.OPEN,
    "cancelled after market order": OrderStatus.CANCELLED,
    "modify after market order req received": OrderStatus.PENDING,
}

# SmartAPI error codes (documentation "Error codes", and the forum for AB1050/AB1051).
TOKEN_ERRORS = {"AG8001", "AG8002", "AG8003", "AB8050", "AB8051", "AB1010", "AB1011"}
LOGIN_ERRORS = {
    "AB1000",
    "AB1001",
    "AB1002",
    "AB1005",
    "AB1032",
    "AB1050",
    "AB1051",
    "AB7001",
    "AG8004",
}
AMBIGUOUS_ERRORS = {"AB1004", "AB2000", "AB2001"}  # "something went wrong": maybe placed


def map_status(raw: str | None, *, filled: int, quantity: int) -> OrderStatus:
    word = (raw or "").strip().lower()
    status = STATUSES.get(word)
    if status is None:
        logger.warning("angelone: unknown order status %r treated as pending", raw)
        return OrderStatus.PENDING
    if status is OrderStatus.OPEN and 0 < filled < quantity:
        return OrderStatus.PARTIALLY_FILLED
    return status


# Strikes and tick sizes in the master are in paise; currency derivatives use


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying (we only need the time)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, KeyError, ValueError, TypeError):
        return None
