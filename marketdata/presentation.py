"""What Settings shows about instrument masters."""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from brokers import registry

from . import readiness
from .models import InstrumentRefresh


class InstrumentsStatus(list):
    """One row per broker; `loading` is true while any list is loading."""

    @property
    def loading(self) -> bool:
        return any(row["loading"] for row in self)


def _latest_per_broker(names: list[str], **conditions) -> dict[str, InstrumentRefresh]:
    """The newest run of each broker (matching `conditions`), in one query."""
    newest = InstrumentRefresh.objects.filter(broker=OuterRef("broker"), **conditions)
    runs = InstrumentRefresh.objects.filter(
        broker__in=names, pk=Subquery(newest.order_by("-started_at").values("pk")[:1])
    )
    return {run.broker: run for run in runs}


def instruments_status() -> InstrumentsStatus:
    """Three queries whatever the number of brokers (tests/site/test_page_queries.py)."""
    adapters = list(registry.all_adapters())
    names = [adapter.name for adapter in adapters]
    last_run = _latest_per_broker(names)
    last_success = _latest_per_broker(names, status=InstrumentRefresh.Status.SUCCEEDED)
    running = set(
        InstrumentRefresh.objects.filter(
            broker__in=names,
            status=InstrumentRefresh.Status.RUNNING,
            started_at__gte=timezone.now() - readiness.RUNNING_FOR,
        ).values_list("broker", flat=True)
    )
    rows = InstrumentsStatus()
    for adapter in adapters:
        rows.append(
            {
                "broker": adapter.name,
                "label": adapter.label,
                "last_success": last_success.get(adapter.name),
                "last_run": last_run.get(adapter.name),
                "loading": readiness.is_queued_or_progressing(adapter.name)
                or adapter.name in running,
                "rows_so_far": readiness.rows_so_far(adapter.name),
            }
        )
    return rows


def settings_section(request) -> dict:
    """The instruments card of the Settings page."""
    return {"instruments": instruments_status()}
