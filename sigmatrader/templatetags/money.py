"""Numbers the Indian way in templates: `|inr`, `|inr_number`, `|pnl_class`.

Loaded as a template builtin, so every template can use them; the formatting
itself is sigmatrader/formatting.py, which Python code imports directly.
"""

from django import template

from sigmatrader import formatting

register = template.Library()

register.filter("inr", formatting.inr)
register.filter("inr_number", formatting.inr_number)
register.filter("pnl_class", formatting.pnl_class)
