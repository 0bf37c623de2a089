"""`manage.py check` validates SIGMATRADER_BROKERS entry by entry (brokers/checks.py)."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from brokers import registry
from brokers.checks import broker_registry

DEFAULT = [
    "brokers.zerodha.ZerodhaAdapter",
    "brokers.angelone.AngelOneAdapter",
    "paper.adapter.PaperAdapter",
]


def ids(errors):
    return [error.id for error in errors]


def test_the_default_setting_passes(settings):
    assert list(settings.SIGMATRADER_BROKERS) == DEFAULT
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
        (["tests.fake_broker.NotAnAdapter"], "brokers.E003", "is not a BrokerAdapter subclass"),
        (["tests.fake_broker.BadName"], "brokers.E003", "must be a lower-case identifier"),
        (["tests.brokers.test_checks.NoLabel"], "brokers.E003", "must declare a label"),
        (["tests.brokers.test_checks.NoFlow"], "brokers.E003", "connect_flow"),
        (["tests.brokers.test_checks.BadCapabilities"], "brokers.E003", "Capabilities"),
        # The module, not its class: a clear error, not an AttributeError from the check.
        (["paper.adapter"], "brokers.E003", "paper.adapter is not a BrokerAdapter subclass"),
        (
            ["tests.fake_broker.FakeBroker", "tests.fake_broker.SameName"],
            "brokers.E004",
            "tests.fake_broker.SameName",
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
        "tests.fake_broker.NotAnAdapter",
        "tests.brokers.test_checks.PaperAgain",
    ]
    assert ids(broker_registry()) == ["brokers.E002", "brokers.E003", "brokers.E004"]


def test_the_registry_refuses_a_module_path_with_its_own_message():
    with pytest.raises(ImproperlyConfigured, match="paper.adapter is not a BrokerAdapter"):
        registry.load(["paper.adapter"])


# Adapters that are wrong in one declaration each (named by the parametrised paths).
from brokers.base import ConnectFlow  # noqa: E402
from paper.adapter import PaperAdapter  # noqa: E402
from tests.fake_broker import FakeBroker  # noqa: E402


class NoLabel(FakeBroker):
    name = "nolabel"
    label = ""


class NoFlow(FakeBroker):
    name = "noflow"
    connect_flow = "credentials_totp"  # the string, not the ConnectFlow member


class BadCapabilities(FakeBroker):
    name = "badcaps"
    capabilities = {"gtt": True}


class PaperAgain(PaperAdapter):
    connect_flow = ConnectFlow.NONE
