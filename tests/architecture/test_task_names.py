"""Services queue tasks by name (sigmatrader/queueing.py) instead of importing
their app's tasks module; every name they give must be a registered task."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from sigmatrader.queueing import enqueue
from tests.architecture.test_layers import APPS, ROOT, modules


def enqueued_names():
    for package in APPS:
        for _, path in modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "enqueue"
                    and node.args
                ):
                    first = node.args[0]
                    assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: name a task"
                    yield first.value, f"{path.name}:{node.lineno}"


def test_every_enqueued_name_is_a_registered_task_even_in_a_fresh_web_process():
    """A fresh process (as gunicorn's) has imported no tasks module; each name resolves."""
    names = sorted({name for name, _ in enqueued_names()})
    assert len(names) >= 3  # orders, instruments, portfolio refresh
    script = (
        "import django; django.setup()\n"
        "from sigmatrader.queueing import task\n"
        f"for name in {names!r}: assert task(name).name == name, name\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_an_unknown_name_is_refused_before_anything_is_sent():
    with pytest.raises(KeyError):
        enqueue("orders.no_such_task", 1)
