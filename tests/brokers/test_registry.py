import pytest
from django.core.exceptions import ImproperlyConfigured

from brokers import registry
from brokers.adapter import BrokerAdapter
from brokers.base import ConnectFlow, NotSupported
from tests.brokers.fake_broker import FakeBroker


def test_registry_serves_the_configured_adapters(fake_registry):
    assert fake_registry.get_adapter_class("fakebroker") is FakeBroker
    assert fake_registry.choices() == [("fakebroker", "Fake Broker")]
    with pytest.raises(registry.UnknownBroker):
        fake_registry.get_adapter_class("nosuchbroker")


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["tests.brokers.fake_broker.NotAnAdapter"], "is not a BrokerAdapter subclass"),
        (["tests.brokers.fake_broker.BadName"], "must be a lower-case identifier"),
        (
            ["tests.brokers.fake_broker.FakeBroker", "tests.brokers.fake_broker.SameName"],
            "two adapters are named",
        ),
        (["tests.brokers.fake_broker.Missing"], "cannot import"),
    ],
)
def test_registry_refuses_a_bad_setting_with_a_clear_message(paths, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        registry.load(paths)


def test_an_operation_the_adapter_lacks_raises_not_supported():
    adapter = FakeBroker(credentials={})
    with pytest.raises(NotSupported, match="Fake Broker does not offer GTT orders"):
        adapter.list_gtts()
    with pytest.raises(NotSupported, match="does not offer a margin preview"):
        adapter.margin_preview([])


def test_base_class_declares_no_broker():
    assert not hasattr(BrokerAdapter, "name")
    assert FakeBroker.connect_flow is ConnectFlow.CREDENTIALS_TOTP
