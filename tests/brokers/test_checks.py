"""`manage.py check` validates SIGMATRADER_BROKERS entry by entry (brokers/checks.py)."""

import re
from dataclasses import replace

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from brokers import registry
from brokers.base import EndpointClass, RateLimit, Validity, Variety
from brokers.checks import broker_registry

# The three shipped adapters; the setting itself may list more (a new broker's line).
SHIPPED = [
    "brokers.zerodha.ZerodhaAdapter",
    "brokers.angelone.AngelOneAdapter",
    "paper.adapter.PaperAdapter",
]


def ids(errors):
    return [error.id for error in errors]


def test_the_default_setting_passes(settings):
    assert set(SHIPPED) <= set(settings.SIGMATRADER_BROKERS)
    assert broker_registry() == []


def test_the_check_is_registered_and_runs_with_manage_py_check(settings):
    settings.SIGMATRADER_BROKERS = ["paper.adapter.Missing"]
    found = [e for e in checks.run_checks() if e.id.startswith("brokers.E00")]
    assert ids(found) == ["brokers.E002"]
    assert "paper.adapter.Missing" in found[0].msg


@pytest.mark.parametrize(
    ("paths", "expected", "named"),
    [
        (["paper.adapter.Missing"], "brokers.E002", "paper.adapter.Missing"),
        (["nosuchpackage.Adapter"], "brokers.E002", "nosuchpackage.Adapter"),
        (
            ["tests.brokers.fake_broker.NotAnAdapter"],
            "brokers.E003",
            "is not a BrokerAdapter subclass",
        ),
        (["tests.brokers.fake_broker.BadName"], "brokers.E003", "must be a lower-case identifier"),
        (["tests.brokers.test_checks.NoLabel"], "brokers.E003", "must declare a label"),
        (["tests.brokers.test_checks.NoFlow"], "brokers.E003", "connect_flow"),
        (["tests.brokers.test_checks.BadCapabilities"], "brokers.E003", "Capabilities"),
        (["tests.brokers.test_checks.AmoWithoutVariety"], "brokers.E003", "Variety.AMO"),
        # The module, not its class: a clear error, not an AttributeError from the check.
        (["paper.adapter"], "brokers.E003", "paper.adapter is not a BrokerAdapter subclass"),
        (
            ["tests.brokers.fake_broker.FakeBroker", "tests.brokers.fake_broker.SameName"],
            "brokers.E004",
            "tests.brokers.fake_broker.SameName",
        ),
        ([], "brokers.E005", "non-empty list"),
        ("paper.adapter.PaperAdapter", "brokers.E005", "non-empty list"),
    ],
)
def test_a_bad_entry_is_an_error_naming_it(settings, paths, expected, named):
    settings.SIGMATRADER_BROKERS = paths
    errors = broker_registry()
    assert ids(errors) == [expected]
    assert named in errors[0].msg
    assert errors[0].hint


def test_every_bad_entry_is_reported_not_only_the_first(settings):
    settings.SIGMATRADER_BROKERS = [
        "paper.adapter.Missing",
        "paper.adapter.PaperAdapter",
        "tests.brokers.fake_broker.NotAnAdapter",
        "tests.brokers.test_checks.PaperAgain",
    ]
    assert ids(broker_registry()) == ["brokers.E002", "brokers.E003", "brokers.E004"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amo": True}, "amo=True and Variety.AMO in varieties go together"),
        ({"gtt_modify": True}, "gtt_modify=True needs gtt_kinds"),
        ({"varieties": frozenset({Variety.AMO})}, "varieties must include Variety.REGULAR"),
        ({"varieties": frozenset({"REGULAR"})}, "varieties must be a frozenset of Variety"),
        ({"validities": frozenset({Validity.IOC})}, "validities must include Validity.DAY"),
        ({"products": frozenset()}, "must each offer at least one"),
        ({"exchanges": frozenset()}, "exchanges must name at least one"),
        ({"quote_batch_size": 0}, "quote_batch_size must be a whole number >= 1"),
        ({"history_intervals": ("1min",)}, "history_intervals ['1min'] are not the app's"),
        ({"history_max_days": {"1m": 30}}, "history_max_days names '1m'"),
        (
            {"history_intervals": ("1d",), "history_max_days": {"1d": 0}},
            "history_max_days['1d'] must be a whole number >= 1",
        ),
        ({"rate_limits": {"orders": (RateLimit(1),)}}, "is not an EndpointClass"),
        ({"rate_limits": {EndpointClass.ORDERS: (RateLimit(0),)}}, "requests >= 1"),
        ({"rate_limits": {EndpointClass.ORDERS: RateLimit(5)}}, "non-empty tuple of RateLimit"),
        ({"rate_limits": {EndpointClass.ORDERS: (RateLimit(5, 0),)}}, "per_seconds > 0"),
    ],
)
def test_the_registry_refuses_capabilities_the_app_cannot_rely_on(change, message):
    adapter = type(
        "Odd", (FakeBroker,), {"capabilities": replace(FakeBroker.capabilities, **change)}
    )
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        registry.validate_adapter(adapter)


def test_the_real_adapters_capabilities_pass(settings):
    for adapter in registry.load(list(settings.SIGMATRADER_BROKERS)).values():
        assert registry.capability_problems(adapter.capabilities) == [], adapter.name


def test_the_registry_refuses_a_module_path_with_its_own_message():
    with pytest.raises(ImproperlyConfigured, match="paper.adapter is not a BrokerAdapter"):
        registry.load(["paper.adapter"])


# Adapters that are wrong in one declaration each (named by the parametrised paths).
from brokers.base import ConnectFlow  # noqa: E402
from paper.adapter import PaperAdapter  # noqa: E402
from tests.brokers.fake_broker import FakeBroker  # noqa: E402


class NoLabel(FakeBroker):
    name = "nolabel"
    label = ""


class NoFlow(FakeBroker):
    name = "noflow"
    connect_flow = "credentials_totp"  # the string, not the ConnectFlow member


class BadCapabilities(FakeBroker):
    name = "badcaps"
    capabilities = {"gtt": True}


class AmoWithoutVariety(FakeBroker):
    name = "amonovariety"
    capabilities = replace(FakeBroker.capabilities, amo=True)


class PaperAgain(PaperAdapter):
    connect_flow = ConnectFlow.NONE
