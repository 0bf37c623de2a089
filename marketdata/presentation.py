"""What Settings shows about instrument masters."""

from brokers import registry

from .models import InstrumentRefresh


def instruments_status() -> list[dict]:
    rows = []
    for adapter in registry.all_adapters():
        runs = InstrumentRefresh.objects.filter(broker=adapter.name)
        rows.append(
            {
                "broker": adapter.name,
                "label": adapter.label,
                "last_success": runs.filter(status=InstrumentRefresh.Status.SUCCEEDED).first(),
                "last_run": runs.first(),
            }
        )
    return rows
