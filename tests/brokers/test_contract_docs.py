"""The adapter contract is its docstrings (brokers/adapter.py): every public
method of BrokerAdapter says who calls it and what it raises, so the author of
a third broker reads the contract instead of two adapters' code."""

import inspect
import re

import pytest

from brokers import base
from brokers.adapter import BrokerAdapter


def public_methods():
    names = []
    for name, member in vars(BrokerAdapter).items():
        if name.startswith("_"):
            continue
        if isinstance(member, classmethod | staticmethod):
            member = member.__func__
        if inspect.isfunction(member):
            names.append(name)
    return sorted(names)


def doc(name: str) -> str:
    return inspect.getdoc(getattr(BrokerAdapter, name)) or ""


def test_the_contract_has_methods_to_check():
    assert {"place_order", "order_book", "holdings", "check_credentials"} <= set(public_methods())


@pytest.mark.parametrize("name", public_methods())
def test_every_public_method_says_what_it_raises(name):
    text = doc(name)
    assert text, f"BrokerAdapter.{name} has no docstring"
    assert re.search(r"\braises\b", text, re.IGNORECASE), (
        f"BrokerAdapter.{name}'s docstring does not say what it raises "
        "(name the errors after 'Raises', or say 'Never raises')"
    )


@pytest.mark.parametrize("name", public_methods())
def test_every_public_method_says_who_calls_it(name):
    assert re.search(r"\bcall(s|ed)\b", doc(name), re.IGNORECASE), (
        f"BrokerAdapter.{name}'s docstring does not say who calls it ('Called by ...')"
    )


def test_the_errors_the_contract_names_exist():
    error = re.compile(
        r"\b[A-Z][A-Za-z]*(?:Error|Expired|Rejected|Unknown|Unavailable|Limited|"
        r"Supported|Credentials)\b"
    )
    named = {word for name in public_methods() for word in error.findall(doc(name))}
    named |= set(error.findall(inspect.getdoc(BrokerAdapter) or ""))
    missing = sorted(word for word in named if not hasattr(base, word))
    assert not missing, f"the contract names errors brokers/base.py does not define: {missing}"
