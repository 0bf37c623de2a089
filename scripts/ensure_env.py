#!/usr/bin/env python3
"""Create `.env` with a generated SECRET_KEY when it is absent (stdlib only).

Run by `make run` and `make test` before Django starts. An existing `.env` is
never overwritten: only a missing SECRET_KEY line is added, because stored
broker credentials are encrypted with that key and a new one would make them
unreadable.
"""

import secrets
import sys
from pathlib import Path

HEADER = """\
# SigmaTrader local settings, written by `make run` on first start.
# Keep this file private and back it up: stored broker credentials are
# encrypted with SECRET_KEY and cannot be read without it.
"""


def ensure_env(path: Path) -> bool:
    """Return True when the file was created or changed."""
    existing = path.read_text() if path.exists() else ""
    keys = {
        line.split("=", 1)[0].strip()
        for line in existing.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    additions = []
    if "SECRET_KEY" not in keys:
        additions.append(f"SECRET_KEY={secrets.token_urlsafe(50)}")
    if not existing:
        additions.append("DEBUG=true")
    if not additions:
        return False
    text = existing or HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + "\n".join(additions) + "\n")
    path.chmod(0o600)
    return True


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / ".env"
    )
    if ensure_env(target):
        print(f"wrote {target}")
