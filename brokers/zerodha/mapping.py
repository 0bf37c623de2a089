"""Kite Connect's vocabulary mapped to SigmaTrader's: products, order types, varieties,
intervals, statuses, session expiry and the client's exceptions."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiteconnect import exceptions as kite_errors

from ..base import (
    AuthExpired,
    BrokerError,
    OrderRejected,
    OrderStatus,
    OrderType,
    Product,
    RateLimited,
    Variety,
)
from ..transport import transport_error

logger = logging.getLogger(__name__)

IST = ZoneInfo("Asia/Kolkata")

PRODUCTS = {
    "CNC": Product.CNC,
    "MIS": Product.MIS,
    "NRML": Product.NRML,
    "MTF": Product.CNC,
    "BO": Product.MIS,
    "CO": Product.MIS,
}
PRODUCT_NAMES = {Product.CNC: "CNC", Product.MIS: "MIS", Product.NRML: "NRML"}
ORDER_TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "SL": OrderType.SL,
    "SL-M": OrderType.SL_M,
}
VARIETIES = {
    "regular": Variety.REGULAR,
    "amo": Variety.AMO,
    "co": Variety.CO,
    "iceberg": Variety.ICEBERG,
}
VARIETY_NAMES = {v: k for k, v in VARIETIES.items()}

INTERVALS = {
    "1m": "minute",
    "3m": "3minute",
    "5m": "5minute",
    "10m": "10minute",
    "15m": "15minute",
    "30m": "30minute",
    "1h": "60minute",
    "1d": "day",
}

# Every status Kite documents for an order ("Orders" > "Order statuses").
STATUSES = {
    "OPEN": OrderStatus.OPEN,
    "COMPLETE": OrderStatus.EXECUTED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "TRIGGER PENDING": OrderStatus.TRIGGER_PENDING,
    "PUT ORDER REQ RECEIVED": OrderStatus.PENDING,
    "VALIDATION PENDING": OrderStatus.PENDING,
    "OPEN PENDING": OrderStatus.PENDING,
    "AMO REQ RECEIVED": OrderStatus.PENDING,
    "MODIFY VALIDATION PENDING": OrderStatus.OPEN,
    "MODIFY PENDING": OrderStatus.OPEN,
    "MODIFIED": OrderStatus.OPEN,
    "CANCEL PENDING": OrderStatus.OPEN,
    "CANCELLED AMO": OrderStatus.CANCELLED,
    "LAPSED": OrderStatus.CANCELLED,
}


def map_status(raw: str | None, *, filled: int, quantity: int) -> OrderStatus:
    """Map one row's status on its own: never from a previous row."""
    word = (raw or "").strip().upper()
    status = STATUSES.get(word)
    if status is None:
        logger.warning("zerodha: unknown order status %r treated as pending", raw)
        return OrderStatus.PENDING
    if status is OrderStatus.OPEN and 0 < filled < quantity:
        return OrderStatus.PARTIALLY_FILLED
    return status


def session_expiry(login_time: datetime) -> datetime:
    """Kite sessions end at 06:00 India time the next morning."""
    local = login_time.astimezone(IST)
    cutoff = datetime.combine(local.date(), time(6, 0), tzinfo=IST)
    return cutoff if local < cutoff else cutoff + timedelta(days=1)


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=IST)


def translate(exc: Exception, *, placement: bool = False) -> BrokerError:
    """Map a kiteconnect / requests exception to the common errors."""
    if isinstance(exc, BrokerError):
        return exc
    if isinstance(exc, kite_errors.TokenException):
        return AuthExpired(str(exc) or "Kite session expired: reconnect.", code="TokenException")
    if isinstance(exc, kite_errors.NetworkException) and exc.code == 429:
        return RateLimited("Kite says: too many requests.", code="429", retry_after=1.0)
    if isinstance(exc, kite_errors.InputException | kite_errors.OrderException):
        if placement:
            return OrderRejected(f"Kite says: {exc}", code=type(exc).__name__)
        return BrokerError(f"Kite says: {exc}", code=type(exc).__name__)
    if isinstance(exc, kite_errors.PermissionException):
        return BrokerError(f"Kite says: {exc}", code="PermissionException")
    return transport_error(exc, broker="Kite", placement=placement)
