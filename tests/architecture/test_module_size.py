"""Modules stay small enough to read: the protective-exit domain was one file of over a
thousand lines (issue 18) and is split by what each part does; none may grow back."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 450  # lines; a module past it is split by what its parts do


def test_the_protection_modules_stay_small():
    big = {
        str(path.relative_to(ROOT)): count
        for path in sorted((ROOT / "protection").rglob("*.py"))
        if "migrations" not in path.parts
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert big == {}, f"split these by what their parts do: {big}"


def test_the_exit_policy_lives_with_the_exits_package():
    """The policy text (arming, levels, trailing, OCO, reconciliation, retries) is the
    package's docstring, where a reader of any of its modules finds it."""
    text = (ROOT / "protection" / "exits" / "__init__.py").read_text(encoding="utf-8")
    for part in ("**Arming**", "**Trailing**", "**Reconciliation**", "PROTECTION_MAX_RETRIES"):
        assert part in text
