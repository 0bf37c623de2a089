"""Settings → Risk refuses a loss limit or profit target no day can reach (a typo such
as 1e15) at its field, and what it accepts always fits the columns (PostgreSQL's
numeric(18, 2) included)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from protection.forms import LossLimitForm
from protection.models import LossLimit

pytestmark = pytest.mark.django_db
MAX_RUPEES = Decimal("1000000000")  # ₹ 100 crore

BASE = {
    "scope": "all",
    "enabled": "on",
    "loss_kind": "rupees",
    "escalation": "2",
    "unknown_pnl": "halt",
    "webhook_policy": "queue",
}


def _errors(user, **values):
    form = LossLimitForm({**BASE, **values}, user=user, instance=LossLimit(user=user))
    form.is_valid()
    return form.errors


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"max_loss": "1e15"}, "max_loss", "at most ₹ 100 crore"),
        ({"max_loss": "1000000000.01"}, "max_loss", "at most ₹ 100 crore"),
        ({"max_loss": "500", "profit_target": "1e15"}, "profit_target", "at most ₹ 100 crore"),
        ({"loss_kind": "percent", "max_loss": "100.01"}, "max_loss", "at most 100"),
        ({"loss_kind": "percent", "max_loss": "1e15"}, "max_loss", "at most 100"),
        ({"max_loss": "-1"}, "max_loss", "more than 0"),
        ({"max_loss": "500", "profit_target": "0"}, "profit_target", "more than 0"),
    ],
)
def test_out_of_bounds_is_refused_at_its_field(user, values, field, message):
    errors = _errors(user, **values)
    assert field in errors and message in " ".join(errors[field]), errors


def test_the_bounds_themselves_are_accepted_and_fit_the_column(client, user):
    assert not _errors(user, loss_kind="percent", max_loss="100")
    client.force_login(user)
    url = reverse("protection:save-limit")
    response = client.post(url, {**BASE, "max_loss": "1e15"})
    assert response.status_code == 422 and not LossLimit.objects.exists()
    assert "at most ₹ 100 crore" in response.content.decode()
    response = client.post(
        url, {**BASE, "max_loss": str(MAX_RUPEES), "profit_target": str(MAX_RUPEES)}
    )
    assert response.status_code == 302
    limit = LossLimit.objects.get()
    assert limit.max_loss == limit.profit_target == Decimal("1000000000")
    # The largest accepted value leaves room in the column on every database.
    column = LossLimit._meta.get_field("max_loss")
    assert len(str(int(MAX_RUPEES))) + column.decimal_places <= column.max_digits
