"""Every order-book status each broker documents lands on the right order state."""

import pytest

from brokers.angelone import mapping as angelone_mapping
from brokers.zerodha import mapping as zerodha_mapping
from orders.sync import STATUS_FROM_BROKER

KITE = {
    "OPEN": "OPEN",
    "COMPLETE": "EXECUTED",
    "CANCELLED": "CANCELLED",
    "REJECTED": "REJECTED",
    "TRIGGER PENDING": "OPEN",
    "PUT ORDER REQ RECEIVED": "SENT",
    "VALIDATION PENDING": "SENT",
    "OPEN PENDING": "SENT",
    "AMO REQ RECEIVED": "SENT",
    "MODIFY VALIDATION PENDING": "OPEN",
    "MODIFY PENDING": "OPEN",
    "MODIFIED": "OPEN",
    "CANCEL PENDING": "OPEN",
    "CANCELLED AMO": "CANCELLED",
    "LAPSED": "CANCELLED",
    "SOMETHING NEW": "SENT",
}
SMARTAPI = {
    "open": "OPEN",
    "complete": "EXECUTED",
    "cancelled": "CANCELLED",
    "rejected": "REJECTED",
    "trigger pending": "OPEN",
    "open pending": "SENT",
    "validation pending": "SENT",
    "put order req received": "SENT",
    "after market order req received": "SENT",
    "modify validation pending": "OPEN",
    "modify pending": "OPEN",
    "modified": "OPEN",
    "not modified": "OPEN",
    "cancel pending": "OPEN",
    "not cancelled": "OPEN",
    "cancelled after market order": "CANCELLED",
    "modify after market order req received": "SENT",
    "brand new word": "SENT",
}


def test_the_tables_cover_everything_the_adapters_know():
    assert set(zerodha_mapping.STATUSES) <= set(KITE)
    assert set(angelone_mapping.STATUSES) <= set(SMARTAPI)


@pytest.mark.parametrize(("raw", "expected"), KITE.items())
def test_kite_status_to_order_state(raw, expected):
    assert STATUS_FROM_BROKER[zerodha_mapping.map_status(raw, filled=0, quantity=5)] == expected


@pytest.mark.parametrize(("raw", "expected"), SMARTAPI.items())
def test_smartapi_status_to_order_state(raw, expected):
    assert STATUS_FROM_BROKER[angelone_mapping.map_status(raw, filled=0, quantity=5)] == expected


@pytest.mark.parametrize("mapper", [zerodha_mapping.map_status, angelone_mapping.map_status])
def test_a_partly_filled_open_order(mapper):
    assert STATUS_FROM_BROKER[mapper("open", filled=2, quantity=5)] == "PARTIALLY_FILLED"
