"""Recompute recent alert claims' keys in the new form (order content plus alert_id,
else bar_time), so a redelivery that arrives just after the upgrade of an alert
accepted just before it is still a duplicate. The key form is copied here, as it
is on the day of this migration."""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, migrations, transaction
from django.utils import timezone


def _key(parsed: dict) -> str:
    def text(name):
        value = parsed.get(name)
        return "" if value is None else str(value)

    alert_id = text("alert_id")
    source = "|".join(
        [
            alert_id,
            "" if alert_id else text("bar_time"),
            text("exchange"),
            text("symbol"),
            text("action"),
            str(parsed.get("quantity")),
            str(parsed.get("price")),
            str(parsed.get("trigger_price")),
            text("order_type"),
            text("product"),
        ]
    )
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def rekey(apps, schema_editor):
    AlertClaim = apps.get_model("orders", "AlertClaim")
    recent = timezone.now() - timedelta(days=2)
    for claim in AlertClaim.objects.filter(claimed_at__gte=recent).select_related("alert"):
        parsed = claim.alert.parsed or {}
        if not parsed.get("symbol"):
            continue
        claim.key = _key(parsed)
        try:
            with transaction.atomic():
                claim.save(update_fields=["key"])
        except IntegrityError:
            pass  # the same alert claimed twice under the old keys: one claim is enough


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_strategy_dedup_windows")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
