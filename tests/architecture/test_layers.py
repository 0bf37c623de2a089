"""The layering, written down: who may import whom, checked from the source.

Every import counts, at module level or inside a function: a function-level
import does not make an upward dependency or a circle acceptable, it only
hides it. Layers, top to bottom (each may import only those below it):

    project wiring  sigmatrader.settings / urls / celery / wsgi / asgi (glues every app)
    notifications   channels, preferences, the outbox and its delivery (listens to the
                    records every app writes; nothing imports it)
    alerts          alert rules, their evaluation and actions, the screener
    watchlists | protection | trades
                    lists, import, live view, basket orders | exits armed on an
                    entry's fill, the daily loss limit, the kill switch | fills
                    captured, round trips matched, P&L and its export
                    (siblings: never each other)
    portfolio       holdings, positions, the dashboard, live prices of what you hold
    orders | paper  the order life cycle | the simulated exchange (never each other)
    marketdata      instruments, symbol resolution, quotes, the market clock
    brokers         the plugin contract, the registry, accounts, the adapters
    sigmatrader     core: events, pages, params, crypto, cache, redaction

The broker emulator (`emulator/`) is a tool beside the app, like bench/: it
imports nothing from it. Don't casually add to ALLOWED: each entry is a known
debt with its reason, and the test also fails when an entry is no longer
needed.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "sigmatrader",
    "brokers",
    "marketdata",
    "orders",
    "paper",
    "portfolio",
    "watchlists",
    "alerts",
    "protection",
    "notifications",
    "trades",
]
RANK = {
    "sigmatrader": 0,
    "brokers": 1,
    "marketdata": 2,
    "orders": 3,
    "paper": 3,
    "portfolio": 4,
    "watchlists": 5,
    "alerts": 6,
    "protection": 5,
    "notifications": 7,
    "trades": 5,
}
PROJECT_WIRING = {f"sigmatrader.{name}" for name in ("settings", "urls", "celery", "wsgi", "asgi")}
TOP = 9

# (importer, imported module): why it is allowed for now.
ALLOWED = {
    ("orders.funds_check", "portfolio.models"): (
        "the queue preview reads the cash the last portfolio sync stored; "
        "account funds move below orders with capital protection (issue 18)"
    ),
    ("brokers.management.commands.demo_setup", "emulator.demo"): (
        "`make demo` signs in with the emulator's demo users"
    ),
}


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def is_package(name: str) -> bool:
    return (ROOT / Path(*name.split(".")) / "__init__.py").exists()


def is_module(name: str) -> bool:
    return is_package(name) or (ROOT / Path(*name.split("."))).with_suffix(".py").exists()


def imports_of(name: str, path: Path):
    """(imported module, line) for every import in the file, relative ones resolved."""
    package = name if is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if is_module(candidate) else base), node.lineno


def rank(module: str) -> int | None:
    if module in PROJECT_WIRING or any(module.startswith(w + ".") for w in PROJECT_WIRING):
        return TOP
    return RANK.get(module.split(".")[0])


def app_graph():
    graph = defaultdict(set)
    lines = {}
    for package in APPS:
        for name, path in modules(package):
            for imported, line in imports_of(name, path):
                if imported.split(".")[0] in APPS or imported.split(".")[0] == "emulator":
                    graph[name].add(imported)
                    lines[(name, imported)] = f"{path.relative_to(ROOT)}:{line}"
    return graph, lines


def test_no_app_imports_a_layer_above_it_or_a_sibling():
    graph, lines = app_graph()
    found, used = [], set()
    for importer, targets in graph.items():
        for imported in targets:
            if (importer, imported) in ALLOWED:
                used.add((importer, imported))
                continue
            mine, theirs = rank(importer), rank(imported)
            same_app = importer.split(".")[0] == imported.split(".")[0]
            if imported.split(".")[0] == "emulator":
                found.append(f"{lines[(importer, imported)]}: {importer} -> {imported} (a tool)")
            elif theirs is None or same_app or mine == TOP:
                continue
            elif theirs > mine or (theirs == mine and not same_app):
                found.append(f"{lines[(importer, imported)]}: {importer} -> {imported}")
    assert not found, "imports against the layering:\n" + "\n".join(sorted(found))
    assert used == set(ALLOWED), f"ALLOWED entries no longer needed: {set(ALLOWED) - used}"


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return out


def test_no_import_circles_between_modules():
    graph, _ = app_graph()
    # A package's __init__ importing its own modules is how a package is built, not a circle.
    graph = {
        importer: {t for t in targets if not importer.startswith(t + ".")}
        for importer, targets in graph.items()
        if importer not in PROJECT_WIRING
    }
    found = cycles(graph)
    assert not found, "import circles (function-level imports included):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_every_app_of_the_project_has_a_layer():
    """A new app (watchlists, alerts...) says where it sits before it can land."""
    from django.conf import settings

    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]
    assert sorted(ours) == sorted(APPS), "add the app to APPS and RANK (and the docstring)"
    assert set(RANK) == set(APPS)


def test_the_emulator_imports_nothing_from_the_app():
    found = []
    for name, path in modules("emulator"):
        for imported, line in imports_of(name, path):
            if imported.split(".")[0] in APPS:
                found.append(f"{path.relative_to(ROOT)}:{line}: {imported}")
    assert not found, "the emulator imports the app:\n" + "\n".join(found)


def test_the_checks_catch_what_they_are_meant_to_catch():
    """The checks are live: an upward import and a circle are found."""
    assert rank("orders.models") > rank("brokers.models")
    assert rank("sigmatrader.urls") == TOP and rank("sigmatrader.pages") == 0
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    name, path = next((n, p) for n, p in modules("orders") if n == "orders.views")
    assert ("orders.models", 18) in {(m, ln) for m, ln in imports_of(name, path)} or any(
        m == "orders.models" for m, _ in imports_of(name, path)
    )
