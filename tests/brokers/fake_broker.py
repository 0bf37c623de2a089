"""A minimal adapter used to test the registry and accounts without a broker."""

from brokers.adapter import BrokerAdapter
from brokers.base import (
    Capabilities,
    ConnectFlow,
    CredentialField,
    EndpointClass,
    RateLimit,
)


class FakeBroker(BrokerAdapter):
    name = "fakebroker"
    label = "Fake Broker"
    connect_flow = ConnectFlow.CREDENTIALS_TOTP
    credential_fields = (
        CredentialField("api_key", "API key"),
        CredentialField("client_code", "Client code", secret=False),
        CredentialField("pin", "PIN", required=False),
        CredentialField("totp", "TOTP code", per_connect=True),
    )
    capabilities = Capabilities(rate_limits={EndpointClass.ORDERS: (RateLimit(10),)})


class NotAnAdapter:
    name = "nope"


class BadName(FakeBroker):
    name = "Bad Name"


class SameName(FakeBroker):
    label = "Another fake"
