"""Merged views across accounts (portfolio/summary.py): weighted averages, totals,
sort and filter."""

from portfolio import summary
from portfolio.models import Holding
from tests.portfolio.helpers import D


def test_merged_holding_weighs_the_average_price_and_adds_up(two_accounts):
    main, family, *_ = two_accounts
    rows = list(Holding.objects.filter(account__in=[main, family]))
    merged = {m.symbol: m for m in summary.merge_holdings(rows)}
    infy = merged["INFY"]
    assert len(infy.parts) == 2
    assert infy.quantity == 40 and infy.t1_quantity == 4
    # (10 x 1500 + 30 x 1600) / 40
    assert infy.average_price == D("1575")
    assert infy.invested == D("63000")
    last = {part.account_id: part.last_price for part in infy.parts}
    assert infy.current_value == last[main.pk] * 10 + last[family.pk] * 30
    assert infy.pnl == infy.current_value - D("63000")
    total = summary.totals(merged.values())
    assert total.invested == D("63000") + D("3000")  # + SBIN 5 x 600
    assert total.pnl == total.current_value - total.invested
    per_account = summary.totals(r for r in rows if r.account_id == main.pk)
    assert per_account.invested == D("18000")


def test_sort_and_filter():
    class Row:
        def __init__(self, symbol, pnl):
            self.symbol, self.pnl = symbol, D(pnl)

    rows = [Row("INFY", "5"), Row("SBIN", "-3"), Row("TCS", "9")]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="-pnl")] == ["TCS", "INFY", "SBIN"]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="pnl")] == ["SBIN", "INFY", "TCS"]
    assert [r.symbol for r in summary.sort_and_filter(rows, query="in")] == ["INFY", "SBIN"]
    assert [r.symbol for r in summary.sort_and_filter(rows, sort="nonsense")][0] == "INFY"
