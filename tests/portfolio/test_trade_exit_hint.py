"""Trade from a holding offers the Queue form's exit plan block, with its hint of where the
exits will live: held at the broker, or managed by SigmaTrader (review 5 of issue 18, L4)."""

from django.urls import reverse

from orders.forms import OrderForm


def test_trade_from_a_holding_says_where_the_exits_will_live(client, two_accounts):
    main, family, *_ = two_accounts
    client.force_login(main.user)
    for account in (main, family):
        body = client.get(
            reverse("portfolio:holdings-trade") + f"?account={account.pk}&symbol=NSE:INFY"
        ).content.decode()
        queue_form = OrderForm(user=main.user, account=account)
        hint = queue_form.exit_mode
        assert hint and f'<p class="help">{hint}</p>' in body
        block = body.split('<details class="exit-plan"', 1)[1].split("</details>", 1)[0]
        for name in ("stop_loss", "target", "trailing_stop", "trail_activation"):
            assert body.count(f'name="{name}"') == 1 and f'name="{name}"' in block
