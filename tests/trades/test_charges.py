"""The charges estimate of a round trip against a worked example (paper's schedule)."""

from datetime import date, datetime
from decimal import Decimal

from trades.charges import estimate
from trades.matching import IST, Match

D = Decimal


def trip(direction, quantity, open_value, close_value, classification, pclass="CNC"):
    at = datetime(2025, 6, 2, 10, tzinfo=IST)
    return Match(
        book=(1, "NSE", "INFY", pclass),
        direction=direction,
        quantity=quantity,
        open_value=D(open_value),
        close_value=D(close_value),
        opened_at=at,
        closed_at=at,
        open_date=date(2025, 6, 2),
        close_date=date(2025, 6, 2),
        classification=classification,
    )


def test_delivery_round_trip_worked_example():
    # Buy 100 @ 500 (turnover 50,000), sell 100 @ 550 (55,000), delivery rates:
    #   buy:  STT 0.1% 50.00, exchange 0.00297% 1.485 -> 1.49, SEBI 0.05, stamp 0.015% 7.50,
    #         GST 18% of (0 + 1.49 + 0.05) = 0.2772 -> 0.28; brokerage 0        = 59.32
    #   sell: STT 55.00, exchange 1.6335 -> 1.63, SEBI 0.055 -> 0.06, no stamp,
    #         GST 18% of (1.63 + 0.06) = 0.3042 -> 0.30                        = 56.99
    assert estimate(trip("LONG", 100, "50000", "55000", "STCG")) == D("116.31")


def test_intraday_round_trip_worked_example():
    # Buy 100 @ 500, sell 100 @ 505 the same day, intraday rates:
    #   buy:  brokerage min(0.03% of 50,000 = 15, 20) = 15.00, exchange 1.49, SEBI 0.05,
    #         stamp 0.003% 1.50, GST 18% of 16.54 = 2.9772 -> 2.98              = 21.02
    #   sell: brokerage min(15.15, 20) = 15.15, STT 0.025% of 50,500 = 12.625 -> 12.63,
    #         exchange 1.49985 -> 1.50, SEBI 0.0505 -> 0.05, GST 18% of 16.70 = 3.006 -> 3.01
    #                                                                        = 32.34
    assert estimate(trip("LONG", 100, "50000", "50500", "INTRADAY", "MIS")) == D("53.36")


def test_a_short_is_charged_sell_first_and_a_bonus_lot_has_no_buy_leg():
    # The intraday short: sell 100 @ 505 then buy 100 @ 500: the same legs as above.
    assert estimate(trip("SHORT", 100, "50500", "50000", "INTRADAY", "MIS")) == D("53.36")
    # Bonus shares (cost 0) sold: only the sell leg, 56.99 as in the delivery example.
    assert estimate(trip("LONG", 100, "0", "55000", "STCG")) == D("56.99")


def test_fno_option_round_trip_worked_example_at_fno_rates():
    """Review 6: F&O was priced at equity intraday rates. NIFTY option, buy 75 @ 120.50
    (premium 9,037.50), sell 75 @ 140.50 (10,537.50):
      buy:  brokerage 20, exchange 0.03503% 3.1658 -> 3.17, SEBI 0.009 -> 0.01,
            stamp 0.003% 0.2711 -> 0.27, GST 18% of 23.18 = 4.1724 -> 4.17        = 27.62
      sell: brokerage 20, STT 0.1% 10.5375 -> 10.54, exchange 3.6913 -> 3.69,
            SEBI 0.01, GST 18% of 23.70 = 4.266 -> 4.27                         = 38.51"""
    option = trip("LONG", 75, "9037.50", "10537.50", "FNO", pclass="FNO")
    option.symbol, option.exchange = "NIFTY25APR23000CE", "NFO"
    assert estimate(option) == D("66.13")
    # A future, 75 NIFTY @ 23,000 -> 23,100: sell STT 0.02% 346.50, exchange 0.00173%.
    #   buy:  20 + exchange 29.8425 -> 29.84 + SEBI 1.725 -> 1.73 + stamp 0.002% 34.50
    #         + GST 18% of 51.57 = 9.2826 -> 9.28                             = 95.35
    #   sell: 20 + STT 346.50 + exchange 29.97225 -> 29.97 + SEBI 1.73
    #         + GST 18% of 51.70 = 9.306 -> 9.31                              = 407.51
    future = trip("LONG", 75, "1725000", "1732500", "FNO", pclass="FNO")
    future.symbol, future.exchange = "NIFTY25APRFUT", "NFO"
    assert estimate(future) == D("502.86")
