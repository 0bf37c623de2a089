"""Forms built from an adapter's declared credential fields, for any broker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from sigmatrader.crypto import UnreadableSecret

from .adapter import BrokerAdapter
from .models import BrokerAccount

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SET_PLACEHOLDER = "set — leave blank to keep"


def _widget(field, *, stored: bool):
    attrs = {"autocomplete": "off"}
    if field.input_mode == "numeric":
        attrs["inputmode"] = "numeric"
    if stored:
        attrs["placeholder"] = SET_PLACEHOLDER
    if field.secret:
        # Never render a stored secret back into the page.
        return forms.PasswordInput(attrs=attrs, render_value=False)
    return forms.TextInput(attrs=attrs)


class AccountForm(forms.Form):
    """Label plus the adapter's stored credentials; blank secrets keep their value."""

    label = forms.CharField(max_length=60, help_text="Your name for this account, e.g. main.")

    def __init__(
        self,
        *args,
        adapter: type[BrokerAdapter],
        account: BrokerAccount | None = None,
        user: User | None = None,
        **kwargs,
    ):
        self.adapter, self.account, self.user = adapter, account, user
        initial = kwargs.setdefault("initial", {})
        stored = account.stored_credential_names() if account else set()
        if account:
            initial["label"] = account.label
        super().__init__(*args, **kwargs)
        for field in adapter.credential_fields:
            if field.per_connect:
                continue
            is_stored = field.name in stored
            choices = adapter.credential_choices(field.name, user=user)
            if choices is not None:  # a choice among the user's things, not free text
                self.fields[field.name] = forms.ChoiceField(
                    label=field.label,
                    required=field.required and not is_stored,
                    help_text=field.help_text,
                    choices=[("", "— choose —"), *choices],
                )
            else:
                self.fields[field.name] = forms.CharField(
                    label=field.label,
                    required=field.required and not is_stored,
                    help_text=field.help_text,
                    widget=_widget(field, stored=is_stored),
                    max_length=500,
                    strip=True,
                )
            if not field.secret and account and is_stored:
                self.initial[field.name] = account.credentials.get(field.name, "")

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        clash = BrokerAccount.objects.filter(user=self.user, label__iexact=label)
        if self.account:
            clash = clash.exclude(pk=self.account.pk)
        if clash.exists():
            raise forms.ValidationError("You already have an account with this label.")
        return label

    def clean(self):
        super().clean()
        data = self.cleaned_data
        values = {f.name: data.get(f.name, "") for f in self.adapter.credential_fields}
        if self.account:  # a blank field keeps the stored value
            stored = (
                {}
                if isinstance(self.account.credentials, UnreadableSecret)
                else self.account.credentials or {}
            )
            values = {k: v or str(stored.get(k, "")) for k, v in values.items()}
        for name, problem in self.adapter.check_credentials(values, user=self.user).items():
            self.add_error(name if name in self.fields else None, problem)
        return data

    def credentials(self) -> dict[str, str]:
        return {
            f.name: self.cleaned_data.get(f.name, "")
            for f in self.adapter.credential_fields
            if not f.per_connect
        }


class ConnectForm(forms.Form):
    """What must be typed on each connect (PIN, TOTP code) unless stored."""

    def __init__(self, *args, account: BrokerAccount, **kwargs):
        super().__init__(*args, **kwargs)
        stored = account.stored_credential_names()
        for field in account.adapter_class.credential_fields:
            if not field.per_connect or (field.unless_stored and field.unless_stored in stored):
                continue
            self.fields[field.name] = forms.CharField(
                label=field.label,
                help_text=field.help_text,
                widget=_widget(field, stored=False),
                max_length=64,
                strip=True,
            )
