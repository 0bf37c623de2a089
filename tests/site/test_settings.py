"""Settings come from the environment; run in a subprocess so each case starts clean."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k7Qz9-" + "x4Rt8Lm2Vb6Np1Wc5Hs3Jd0Fg" * 3

PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "proxy": settings.SECURE_PROXY_SSL_HEADER,
}))
"""


def run(args, env_overrides, tmp_path):
    # A clean process: only what any shell has, nothing the test run exported.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(
        {
            "SIGMATRADER_ENV_FILE": str(tmp_path / "absent.env"),
            "SIGMATRADER_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "sigmatrader.settings",
        }
    )
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def probe(env_overrides, tmp_path):
    result = run(["-c", PROBE], env_overrides, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_need_no_services(tmp_path):
    values = probe({"SECRET_KEY": STRONG_KEY}, tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "var" / "sigmatrader.sqlite3")
    assert values["broker"] == "filesystem://"
    assert values["cache"].endswith("FileBasedCache")
    assert values["tz"] == "Asia/Kolkata" and values["use_tz"] is True
    assert values["debug"] is False


def test_urls_switch_to_postgresql_and_redis(tmp_path):
    values = probe(
        {
            "SECRET_KEY": STRONG_KEY,
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/sigma",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        tmp_path,
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["cache"].endswith("RedisCache")


def test_env_file_is_read_but_real_environment_wins(tmp_path):
    env_file = tmp_path / "custom.env"
    env_file.write_text(f"SECRET_KEY={STRONG_KEY}\nDEBUG=true\nALLOWED_HOSTS=from-file.example\n")
    values = probe(
        {"SIGMATRADER_ENV_FILE": str(env_file), "ALLOWED_HOSTS": "from-env.example"}, tmp_path
    )
    assert values["debug"] is True
    assert values["hosts"] == ["from-env.example"]


def test_missing_secret_key_is_refused_with_a_clear_message(tmp_path):
    result = run(["-c", PROBE], {}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_mode_passes_check_deploy_without_warnings(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {
            "SECRET_KEY": STRONG_KEY,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "trade.example.in",
            "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_mode_would_fail_check_deploy(tmp_path):
    """The deploy check is real: the development defaults do trip it."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {"SECRET_KEY": STRONG_KEY, "DEBUG": "true"},
        tmp_path,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on in deployment


def test_proxy_header_setting_is_documented_form(tmp_path):
    values = probe(
        {"SECRET_KEY": STRONG_KEY, "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, tmp_path
    )
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize("existing", ["", "DEBUG=false\n", "SECRET_KEY=keep-me\n"])
def test_ensure_env_writes_a_key_once_and_keeps_it(tmp_path, existing):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from ensure_env import ensure_env
    finally:
        sys.path.pop(0)
    target = tmp_path / ".env"
    if existing:
        target.write_text(existing)
    changed = ensure_env(target)
    first = target.read_text()
    assert first.count("SECRET_KEY=") == 1
    if "keep-me" in existing:
        assert not changed and first == existing  # an existing key is never replaced
    else:
        assert changed and target.stat().st_mode & 0o777 == 0o600
    assert ensure_env(target) is False and target.read_text() == first
