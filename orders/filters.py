"""The GET filters of the Orders and Alerts pages (sigmatrader.params.FilterForm)."""

from django import forms

from sigmatrader.params import FilterForm, IdField

from .models import Order, WebhookAlert


class OrderFilterForm(FilterForm):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Order.Status.choices], required=False
    )
    account = IdField()
    source = forms.ChoiceField(choices=[("", "All sources"), *Order.Source.choices], required=False)
    date = forms.DateField(required=False)


class AlertFilterForm(FilterForm):
    outcome = forms.ChoiceField(
        choices=[("", "All outcomes"), *WebhookAlert.Outcome.choices], required=False
    )
