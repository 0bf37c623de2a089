"""Templates carry no inline script, style or event handler: the Content-Security-Policy
(script-src/style-src 'self') would block them. Static check of every template."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    p
    for folder in (
        "templates",
        "orders",
        "brokers",
        "portfolio",
        "marketdata",
        "sigmatrader",
        "paper",
    )
    for p in (ROOT / folder).rglob("*.html")
)
FORBIDDEN = {
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "htmx eval (hx-on, js:)": re.compile(r"\bhx-on\b|hx-on:|hx-vals\s*=\s*['\"]js:", re.I),
}


def test_templates_were_found():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_script_style_or_handler(template):
    text = template.read_text()
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, found
