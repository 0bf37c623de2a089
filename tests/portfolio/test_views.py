"""The portfolio pages: holdings per account and across accounts, the dashboard's tiles,
and another user's isolation."""

from django.urls import reverse

from orders.models import Order
from portfolio.models import Holding, Position
from portfolio.snapshots import snapshot_all
from sigmatrader.formatting import inr
from tests.orders.test_order_lifecycle import new


def test_holdings_page_per_account_and_all_accounts(
    client, two_accounts, django_assert_max_num_queries
):
    main, family, *_ = two_accounts
    client.force_login(main.user)
    page = client.get(reverse("portfolio:holdings") + f"?account={family.pk}").content.decode()
    assert "<title>Holdings — AngelOne · family" in page
    assert "SBIN" not in page and "INFY" in page and "(T1 4)" in page
    page = client.get(reverse("portfolio:holdings") + "?account=all").content.decode()
    assert "Holdings — All accounts" in page
    assert "2 accounts" in page  # INFY's breakdown
    assert "₹63,000.00" in page  # INFY invested across both
    # Filter and HTMX swap
    response = client.get(
        reverse("portfolio:holdings") + "?account=all&q=sbi", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.startswith('<div id="portfolio-body">') and "SBIN" in body and "INFY" not in body
    with django_assert_max_num_queries(12):
        client.get(reverse("portfolio:holdings") + "?account=all")


def test_dashboard_tiles(client, two_accounts):
    main, family, *_ = two_accounts
    new(family, "INFY", quantity=1)
    new(family, "SBIN", quantity=1)
    client.force_login(main.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-account="Zerodha · main"' in page and 'data-account="AngelOne · family"' in page
    overall = sum(h.current_value for h in Holding.objects.all())
    family_value = sum(h.current_value for h in Holding.objects.filter(account=family))
    assert f'data-testid="overall-value">{inr(overall)}<' in page
    tile = page.split('data-account="AngelOne · family"')[1]
    assert inr(family_value) in tile
    assert "<dd>2</dd>" in tile  # waiting in the queue
    assert reverse("portfolio:holdings") + f"?account={family.pk}" in page


def test_another_user_never_sees_or_touches_these(client, two_accounts, other_user):
    main, family, *_ = two_accounts
    snapshot_all()
    client.force_login(other_user)
    for url in (
        reverse("portfolio:holdings") + "?account=all",
        reverse("portfolio:positions") + "?account=all",
    ):
        page = client.get(url).content.decode()
        assert "INFY" not in page and "TCS" not in page and "family" not in page
    page = client.get(reverse("portfolio:holdings") + f"?account={family.pk}").content.decode()
    assert "INFY" not in page
    position = Position.objects.get(account=family)
    assert client.post(reverse("portfolio:square-off", args=[position.pk])).status_code == 404
    assert client.post(reverse("portfolio:refresh", args=[main.pk])).status_code == 404
    assert (
        client.get(reverse("portfolio:holdings-trade") + f"?account={main.pk}").status_code == 404
    )
    history = client.get(reverse("portfolio:holdings-history") + f"?account={main.pk}")
    assert history.status_code == 404
    page = client.get(reverse("dashboard")).content.decode()
    assert "family" not in page
    assert not Order.objects.exists()


def test_dashboard_all_accounts_adds_real_money_and_shows_paper_apart(client, two_accounts):
    """The All-accounts holdings value and Day P&L added paper money to real money (only
    cash was split): a ₹10 lakh practice book made the day look ₹10 lakh richer."""
    from decimal import Decimal

    from brokers import accounts

    main, family, *_ = two_accounts
    paper = accounts.create_account(
        user=main.user, broker="paper", label="Practice", credentials={"starting_cash": "1000"}
    )
    Holding.objects.create(
        account=paper,
        exchange="NSE",
        symbol="TCS",
        quantity=100,
        average_price=3000,
        last_price=4000,
        pnl=100000,
        day_change=Decimal("50"),
    )
    client.force_login(main.user)
    page = client.get(reverse("dashboard")).content.decode()
    real = sum(h.current_value for h in Holding.objects.exclude(account=paper))
    assert f'data-testid="overall-value">{inr(real)}<' in page
    paper_value = page.split('data-testid="paper-value">')[1].split("</p>")[0]
    assert "₹4,00,000.00" in paper_value and "₹1,00,000.00" in paper_value  # value, P&L
    paper_day = page.split('data-testid="paper-day-pnl">')[1].split("</p>")[0]
    assert "₹5,000.00" in paper_day and "not in the total" in paper_day
    day = page.split('data-testid="overall-day-pnl">')[1].split("<")[0]
    assert "5,000" not in day

    # Only paper: the paper figures are the total, with nothing shown apart.
    main.delete()
    family.delete()
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="overall-value">₹4,00,000.00<' in page
    assert "paper-value" not in page and "paper-day-pnl" not in page
