"""Mask the shared `secret` (and any other secret member) in stored webhook bodies."""

from django.db import migrations

from sigmatrader.redaction import mask_json_text


def mask_bodies(apps, schema_editor):
    WebhookAlert = apps.get_model("orders", "WebhookAlert")
    pks = list(WebhookAlert.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 500):
        batch = list(WebhookAlert.objects.filter(pk__in=pks[start : start + 500]))
        changed = []
        for alert in batch:
            masked = mask_json_text(alert.raw_body)
            if masked != alert.raw_body:
                alert.raw_body = masked
                changed.append(alert)
        WebhookAlert.objects.bulk_update(changed, ["raw_body"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_strategy_risk_override")]

    operations = [migrations.RunPython(mask_bodies, migrations.RunPython.noop)]
