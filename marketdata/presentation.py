"""What Settings shows about instrument masters."""

from brokers import registry

from . import readiness
from .models import InstrumentRefresh


class InstrumentsStatus(list):
    """One row per broker; `loading` is true while any list is loading."""

    @property
    def loading(self) -> bool:
        return any(row["loading"] for row in self)


def instruments_status() -> InstrumentsStatus:
    rows = InstrumentsStatus()
    for adapter in registry.all_adapters():
        runs = InstrumentRefresh.objects.filter(broker=adapter.name)
        rows.append(
            {
                "broker": adapter.name,
                "label": adapter.label,
                "last_success": runs.filter(status=InstrumentRefresh.Status.SUCCEEDED).first(),
                "last_run": runs.first(),
                "loading": readiness.is_loading(adapter.name),
                "rows_so_far": readiness.rows_so_far(adapter.name),
            }
        )
    return rows


def settings_section(request) -> dict:
    """The instruments card of the Settings page."""
    return {"instruments": instruments_status()}
