"""The admin names every model in plain English plurals ("instrument refreshes",
not "instrument refreshs")."""

import re

from django.apps import apps

# Django adds an "s"; after these endings English wants "es" or "ies".
WRONG = re.compile(r"(?:s|sh|ch|x|z)s$|[^aeiou]ys$")


def test_every_models_plural_reads_as_english():
    wrong = {
        f"{m._meta.app_label}.{m.__name__}": str(m._meta.verbose_name_plural)
        for m in apps.get_models()
        if WRONG.search(str(m._meta.verbose_name_plural))
    }
    assert not wrong, f"set Meta.verbose_name_plural: {wrong}"


def test_the_admin_index_lists_instrument_refreshes(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Instrument refreshes" in page and "Instrument refreshs" not in page
