"""Every PROTECTION_* setting the code reads is declared in sigmatrader/settings.py
(read from its own environment variable, with its default there, not scattered in
code) and listed in the README's configuration table."""

import importlib.util
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Read as a setting: settings.X, getattr(settings, "X", …) or a helper's _setting("X", …).
NAME = re.compile(r'(?:\bsettings\.|getattr\(settings,\s*"|_setting\(")(PROTECTION_[A-Z_]+)\b')
SKIP = {".venv", "tests", "node_modules", "var", "migrations"}


def _read_in_code() -> set[str]:
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIP or path.name == "settings.py":
            continue
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.add(name)
    return found


def test_every_protection_setting_read_is_declared_with_its_env_var_and_documented():
    names = _read_in_code()
    assert {"PROTECTION_MAX_RETRIES", "PROTECTION_STALE_SECONDS"} <= names  # the scan works
    source = (ROOT / "sigmatrader" / "settings.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") : readme.index("### Production mode")]
    for name in sorted(names):
        assert re.search(rf'^{name} = env\.\w+\("{name}", default=', source, re.M), name
        assert hasattr(settings, name), name
        assert f"`{name}`" in table, f"{name} is not in the README's configuration table"


def test_an_environment_variable_sets_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PROTECTION_STALE_SECONDS", "45")
    monkeypatch.setenv("PROTECTION_MIS_END", "15:10")
    monkeypatch.setenv("SIGMATRADER_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    spec = importlib.util.spec_from_file_location(
        "fresh_settings", ROOT / "sigmatrader" / "settings.py"
    )
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.PROTECTION_STALE_SECONDS == 45
    assert fresh.PROTECTION_MIS_END == "15:10"
    assert fresh.PROTECTION_MAX_RETRIES == 3  # its default
