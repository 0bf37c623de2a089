"""A fresh clone has only itself: no file of the repository may read the
folder that sits beside it in the project's own workspace."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The sibling's name, spelled in parts: this file looks for it, and must not itself
# match a plain text scan for a path to it.
NAME = "".join(["sh", "ared"])
# The three ways to name it: up one folder then the sibling, Path(...) / the sibling,
# os.path.join of the two parts (the examples are assembled below, never written out).
SIBLING = re.compile(rf"""\.\.[/\\]{NAME}\b|/\s*["']{NAME}["']|["']\.\.["']\s*,\s*["']{NAME}["']""")
SKIP_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__", "staticfiles", "logs"}
DOC_SUFFIXES = {".md", ".rst", ".txt"}
TEXT_SUFFIXES = {
    ".py", ".html", ".js", ".css", ".toml", ".cfg", ".ini", ".json", ".yml", ".yaml",
    ".sh", ".csv", ".env", "",
}  # fmt: skip


def repository_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            if path.suffix not in DOC_SUFFIXES and path.suffix in TEXT_SUFFIXES:
                yield path


def test_nothing_in_the_repository_reads_the_sibling_folder():
    offenders = []
    for path in repository_files():
        if path == Path(__file__).resolve():  # its own examples below
            continue
        text = path.read_text(errors="replace")
        if SIBLING.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"files that reach outside the repository: {offenders}"


def test_the_scan_sees_the_code_and_would_catch_each_form():
    names = {p.relative_to(ROOT).as_posix() for p in repository_files()}
    assert "tests/brokers/test_adapter_mapping.py" in names and "Makefile" in names
    up, sibling = "..", NAME  # kept apart: this file itself reaches nowhere
    for read in (
        f'open("{up}/{sibling}/x.json")',
        f'Path(__file__).parents[2] / "{sibling}" / "broker-samples"',
        f'os.path.join("{up}", "{sibling}")',
    ):
        assert SIBLING.search(read), read
    assert not SIBLING.search("from celery import shared_task")
