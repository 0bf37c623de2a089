"""The Settings page, composed of sections each app contributes.

Core cannot import the apps above it, so each app registers what its card
needs in its `AppConfig.ready()` (`register_section`), and this module merges
them. A view that re-renders the page with a bound form (errors next to the
fields) passes that form as an override.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.shortcuts import render

from .http import AuthedHttpRequest

Section = Callable[[AuthedHttpRequest], dict]
_sections: list[Section] = []


def register_section(section: Section) -> Section:
    """Add an app's part of the Settings context (usable as a decorator)."""
    if section not in _sections:
        _sections.append(section)
    return section


def settings_context(request: AuthedHttpRequest, **overrides) -> dict:
    """Everything the Settings page shows, with `overrides` replacing sections' keys."""
    context: dict = {}
    for section in _sections:
        context.update(section(request))
    context.update(overrides)
    return context


def render_settings(request: AuthedHttpRequest, *, status: int = 200, **overrides) -> HttpResponse:
    return render(
        request, "sigmatrader/settings.html", settings_context(request, **overrides), status=status
    )
