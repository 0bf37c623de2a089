"""Fixtures for the broker tests only (the emulator, used everywhere, is in tests/conftest.py)."""

import pytest


@pytest.fixture
def fake_registry(settings):
    """Registers only tests.brokers.fake_broker.FakeBroker for the test."""
    from brokers import registry

    settings.SIGMATRADER_BROKERS = ["tests.brokers.fake_broker.FakeBroker"]
    registry.reset()
    yield registry
    registry.reset()
